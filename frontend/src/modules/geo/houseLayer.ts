/**
 * The house layer of the map (`GET /registry/houses/map`): per-grid house counts as sized circles when
 * zoomed out (below 14), single houses with MapLibre's GeoJSON clustering when zoomed in. Fetched for the
 * visible box, debounced on `moveend`; a view that needs the same request as the last one fetches nothing.
 *
 * Circles carry no text: symbol layers would need glyphs from the network, and the map works offline.
 */
import type { FeatureCollection, Point } from 'geojson'
import type { GeoJSONSource, Map as MapLibreMap, MapMouseEvent } from 'maplibre-gl'
import type { HouseMap } from '@/api/types'
import { covers, houseMapRequest, type HouseLayerMode, type HouseMapRequest } from '@/lib/houseMap'

export const GRID_SOURCE = 'houses-grids'
export const POINT_SOURCE = 'houses-points'
export const GRID_LAYER = 'houses-grid-circles'
export const CLUSTER_LAYER = 'houses-clusters'
export const POINT_LAYER = 'houses-points'
const LAYERS = [GRID_LAYER, CLUSTER_LAYER, POINT_LAYER]

export interface HouseLayerStatus {
  state: 'off' | 'loading' | 'ready' | 'error'
  mode: HouseLayerMode | null
  count: number
  truncated: boolean
  error: string | null
}

export interface HouseLayerHooks {
  fetch: (request: HouseMapRequest) => Promise<HouseMap>
  status: (status: HouseLayerStatus) => void
  /** A house was clicked: show its popup. */
  house: (properties: Record<string, unknown>, lngLat: [number, number]) => void
  /** A grid's circle was clicked. */
  grid: (properties: Record<string, unknown>, lngLat: [number, number]) => void
}

const empty = (): FeatureCollection => ({ type: 'FeatureCollection', features: [] })

export class HouseLayer {
  private last: (HouseMapRequest & { truncated: boolean }) | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  private seq = 0
  private enabled = false
  private added = false

  constructor(
    private readonly map: MapLibreMap,
    private readonly hooks: HouseLayerHooks,
    private readonly delay = 250,
  ) {
    map.on('moveend', this.onMoveEnd)
    map.on('click', this.onClick)
  }

  setEnabled(on: boolean): void {
    this.enabled = on
    if (on) {
      this.ensureLayers()
      this.last = null
      void this.refresh()
    } else {
      clearTimeout(this.timer)
      this.seq++
      this.last = null
      for (const id of LAYERS) if (this.map.getLayer(id)) this.map.setLayoutProperty(id, 'visibility', 'none')
      this.hooks.status({ state: 'off', mode: null, count: 0, truncated: false, error: null })
    }
  }

  destroy(): void {
    clearTimeout(this.timer)
    this.map.off('moveend', this.onMoveEnd)
    this.map.off('click', this.onClick)
  }

  private readonly onMoveEnd = (): void => {
    if (!this.enabled) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.refresh(), this.delay)
  }

  private readonly onClick = (event: MapMouseEvent): void => {
    if (!this.enabled) return
    const layers = LAYERS.filter((id) => this.map.getLayer(id))
    const hit = this.map.queryRenderedFeatures(event.point, { layers })[0]
    if (!hit) return
    const coordinates = (hit.geometry as Point).coordinates as [number, number]
    const properties = hit.properties ?? {}
    if (hit.layer.id === CLUSTER_LAYER) {
      const source = this.map.getSource<GeoJSONSource>(POINT_SOURCE)
      void source?.getClusterExpansionZoom(properties.cluster_id as number).then((zoom) => {
        this.map.easeTo({ center: coordinates, zoom })
      })
    } else if (hit.layer.id === POINT_LAYER) {
      this.hooks.house(properties, coordinates)
    } else {
      this.hooks.grid(properties, coordinates)
    }
  }

  private ensureLayers(): void {
    const m = this.map
    if (!this.added) {
      m.addSource(GRID_SOURCE, { type: 'geojson', data: empty() })
      m.addSource(POINT_SOURCE, { type: 'geojson', data: empty(), cluster: true, clusterRadius: 40, clusterMaxZoom: 17 })
      m.addLayer({
        id: GRID_LAYER,
        type: 'circle',
        source: GRID_SOURCE,
        paint: {
          'circle-color': '#e8590c',
          'circle-opacity': 0.55,
          'circle-stroke-color': '#fff',
          'circle-stroke-width': 1.5,
          'circle-radius': 6,
        },
      })
      m.addLayer({
        id: CLUSTER_LAYER,
        type: 'circle',
        source: POINT_SOURCE,
        filter: ['has', 'point_count'],
        paint: {
          'circle-color': ['step', ['get', 'point_count'], '#f59f00', 20, '#e8590c', 100, '#c92a2a'],
          'circle-opacity': 0.8,
          'circle-stroke-color': '#fff',
          'circle-stroke-width': 2,
          'circle-radius': ['step', ['get', 'point_count'], 12, 20, 17, 100, 23],
        },
      })
      m.addLayer({
        id: POINT_LAYER,
        type: 'circle',
        source: POINT_SOURCE,
        filter: ['!', ['has', 'point_count']],
        paint: {
          'circle-color': ['match', ['get', 'use'], 'rented', '#f08c00', 'vacant', '#868e96', 'business', '#7048e8', '#2b8a3e'],
          'circle-radius': 6,
          'circle-stroke-color': '#fff',
          'circle-stroke-width': 1.5,
        },
      })
      this.added = true
    }
    for (const id of LAYERS) m.setLayoutProperty(id, 'visibility', 'visible')
  }

  async refresh(): Promise<void> {
    if (!this.enabled) return
    const b = this.map.getBounds()
    const view: [number, number, number, number] = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
    if (covers(this.last, view, this.map.getZoom())) return
    const request = houseMapRequest(view, this.map.getZoom())
    const mine = ++this.seq
    this.hooks.status({ state: 'loading', mode: request.mode, count: 0, truncated: false, error: null })
    try {
      const answer = await this.hooks.fetch(request)
      if (mine !== this.seq) return
      this.last = { ...request, truncated: answer.truncated }
      const data = answer as unknown as FeatureCollection
      const grids = request.mode === 'grids'
      this.map.getSource<GeoJSONSource>(GRID_SOURCE)?.setData(grids ? data : empty())
      this.map.getSource<GeoJSONSource>(POINT_SOURCE)?.setData(grids ? empty() : data)
      if (grids) this.sizeGridCircles(data)
      const count = grids
        ? data.features.reduce((sum, f) => sum + Number(f.properties?.houses ?? 0), 0)
        : data.features.length
      this.hooks.status({ state: 'ready', mode: request.mode, count, truncated: answer.truncated, error: null })
    } catch (error) {
      if (mine !== this.seq) return
      this.hooks.status({ state: 'error', mode: request.mode, count: 0, truncated: false, error: error instanceof Error ? error.message : String(error) })
    }
  }

  /** Radius 6–30 px by the square root of the grid's count relative to the largest in view. */
  private sizeGridCircles(data: FeatureCollection): void {
    const max = Math.max(1, ...data.features.map((f) => Number(f.properties?.houses ?? 0)))
    this.map.setPaintProperty(GRID_LAYER, 'circle-radius', ['+', 6, ['*', 24, ['sqrt', ['/', ['min', ['get', 'houses'], max], max]]]])
  }

  /** Whether a house-layer feature lies under the pixel (the map's own click then stays quiet). */
  hits(point: { x: number; y: number }): boolean {
    if (!this.enabled) return false
    const layers = LAYERS.filter((id) => this.map.getLayer(id))
    return layers.length > 0 && this.map.queryRenderedFeatures([point.x, point.y], { layers }).length > 0
  }

  /** For tests: the request a view would make now. */
  currentRequest(): HouseMapRequest | null {
    return this.last
  }
}
