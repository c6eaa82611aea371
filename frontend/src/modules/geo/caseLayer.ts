/**
 * The case layer of the map: the open cases in view (`GET /cases?open_only=true&bbox=…`, at most one page of
 * 500, newest first) as points clustered by MapLibre, coloured by their state — red card, yellow card, overdue
 * without a card, or running. A cluster takes the colour of its worst case. Fetched for the view padded by a
 * quarter, debounced on `moveend`; a view inside the last box asks again only when that answer was capped.
 *
 * Circles carry no text (symbol layers would need glyphs from the network; the map works offline).
 */
import type { Feature, FeatureCollection, Point } from 'geojson'
import type { GeoJSONSource, Map as MapLibreMap, MapMouseEvent } from 'maplibre-gl'
import type { CasePage, CaseRow } from '@/modules/cases/types'

export const CASE_SOURCE = 'cases-points'
export const CASE_CLUSTER_LAYER = 'cases-clusters'
export const CASE_POINT_LAYER = 'cases-points'
const LAYERS = [CASE_CLUSTER_LAYER, CASE_POINT_LAYER]
/** The API's largest page (core.pagination.MAX_PAGE_SIZE). */
export const CASE_PAGE_SIZE = 500
export const PADDING = 0.25

export type CaseMark = 'red' | 'yellow' | 'overdue' | 'normal'
export const MARK_COLOURS: Readonly<Record<CaseMark, string>> = { red: '#e03131', yellow: '#f5b800', overdue: '#9c36b5', normal: '#0ca678' }

export function caseMark(c: Pick<CaseRow, 'card' | 'overdue'>): CaseMark {
  if (c.card === 'red') return 'red'
  if (c.card === 'yellow') return 'yellow'
  return c.overdue ? 'overdue' : 'normal'
}

export type Box = [number, number, number, number]

/** The box to ask for: the view [w, s, e, n] padded by a quarter on each side, clamped, to 5 decimals. */
export function requestBox(view: Readonly<Box>, padding = PADDING): Box {
  const [w, s, e, n] = view
  const dx = (e - w) * padding
  const dy = (n - s) * padding
  const r = (v: number): number => Math.round(v * 1e5) / 1e5
  return [r(Math.max(-180, w - dx)), r(Math.max(-90, s - dy)), r(Math.min(180, e + dx)), r(Math.min(90, n + dy))]
}

export function inside(view: Readonly<Box>, box: Readonly<Box>): boolean {
  return view[0] >= box[0] && view[1] >= box[1] && view[2] <= box[2] && view[3] <= box[3]
}

export function caseFeatures(items: readonly CaseRow[]): FeatureCollection<Point> {
  return {
    type: 'FeatureCollection',
    features: items.map(
      (c): Feature<Point> => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
        properties: { id: c.id, code: c.code, title: c.title, status: c.status, mark: caseMark(c) },
      }),
    ),
  }
}

export interface CaseLayerStatus {
  state: 'off' | 'loading' | 'ready' | 'error'
  /** cases drawn */
  shown: number
  /** open cases in the box asked for (more than `shown` when capped at one page) */
  total: number
  error: string | null
}

export interface CaseLayerHooks {
  fetch: (bbox: string, pageSize: number) => Promise<CasePage>
  status: (status: CaseLayerStatus) => void
  /** A case was clicked: show its popup. */
  open: (properties: Record<string, unknown>, lngLat: [number, number]) => void
}

const count = (mark: CaseMark): unknown => ['+', ['case', ['==', ['get', 'mark'], mark], 1, 0]]

export class CaseLayer {
  private last: { box: Box; capped: boolean } | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  private seq = 0
  private enabled = false
  private added = false

  constructor(
    private readonly map: MapLibreMap,
    private readonly hooks: CaseLayerHooks,
    private readonly delay = 250,
  ) {
    map.on('moveend', this.onMoveEnd)
    map.on('click', this.onClick)
  }

  setEnabled(on: boolean): void {
    this.enabled = on
    this.last = null
    if (on) {
      this.ensureLayers()
      void this.refresh()
      return
    }
    clearTimeout(this.timer)
    this.seq++
    for (const id of LAYERS) if (this.map.getLayer(id)) this.map.setLayoutProperty(id, 'visibility', 'none')
    this.hooks.status({ state: 'off', shown: 0, total: 0, error: null })
  }

  destroy(): void {
    clearTimeout(this.timer)
    this.map.off('moveend', this.onMoveEnd)
    this.map.off('click', this.onClick)
  }

  /** Whether a case or a cluster lies under the pixel (the map's own click then stays quiet). */
  hits(point: { x: number; y: number }): boolean {
    if (!this.enabled) return false
    const layers = LAYERS.filter((id) => this.map.getLayer(id))
    return layers.length > 0 && this.map.queryRenderedFeatures([point.x, point.y], { layers }).length > 0
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
    if (hit.layer.id === CASE_CLUSTER_LAYER) {
      const source = this.map.getSource<GeoJSONSource>(CASE_SOURCE)
      void source?.getClusterExpansionZoom(properties.cluster_id as number).then((zoom) => this.map.easeTo({ center: coordinates, zoom }))
    } else {
      this.hooks.open(properties, coordinates)
    }
  }

  private ensureLayers(): void {
    const m = this.map
    if (!this.added) {
      m.addSource(CASE_SOURCE, {
        type: 'geojson',
        data: caseFeatures([]),
        cluster: true,
        clusterRadius: 36,
        clusterMaxZoom: 16,
        clusterProperties: { red: count('red'), yellow: count('yellow'), overdue: count('overdue') } as never,
      })
      const c = MARK_COLOURS
      m.addLayer({
        id: CASE_CLUSTER_LAYER,
        type: 'circle',
        source: CASE_SOURCE,
        filter: ['has', 'point_count'],
        paint: {
          'circle-color': ['case', ['>', ['get', 'red'], 0], c.red, ['>', ['get', 'yellow'], 0], c.yellow, ['>', ['get', 'overdue'], 0], c.overdue, c.normal],
          'circle-opacity': 0.85,
          'circle-stroke-color': '#fff',
          'circle-stroke-width': 2,
          'circle-radius': ['step', ['get', 'point_count'], 11, 10, 15, 50, 20, 200, 25],
        },
      })
      m.addLayer({
        id: CASE_POINT_LAYER,
        type: 'circle',
        source: CASE_SOURCE,
        filter: ['!', ['has', 'point_count']],
        paint: {
          'circle-color': ['match', ['get', 'mark'], 'red', c.red, 'yellow', c.yellow, 'overdue', c.overdue, c.normal],
          'circle-radius': 7,
          'circle-stroke-color': '#fff',
          'circle-stroke-width': 2,
        },
      })
      this.added = true
    }
    for (const id of LAYERS) m.setLayoutProperty(id, 'visibility', 'visible')
  }

  async refresh(): Promise<void> {
    if (!this.enabled) return
    const b = this.map.getBounds()
    const view: Box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
    if (this.last && !this.last.capped && inside(view, this.last.box)) return
    const box = requestBox(view)
    const mine = ++this.seq
    this.hooks.status({ state: 'loading', shown: 0, total: 0, error: null })
    try {
      const page = await this.hooks.fetch(box.join(','), CASE_PAGE_SIZE)
      if (mine !== this.seq) return
      this.last = { box, capped: page.total > page.items.length }
      this.map.getSource<GeoJSONSource>(CASE_SOURCE)?.setData(caseFeatures(page.items))
      this.hooks.status({ state: 'ready', shown: page.items.length, total: page.total, error: null })
    } catch (error) {
      if (mine !== this.seq) return
      this.hooks.status({ state: 'error', shown: 0, total: 0, error: error instanceof Error ? error.message : String(error) })
    }
  }
}
