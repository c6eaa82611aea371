/**
 * The setup the app's small MapLibre maps share (the safety maps, a case's point map): the map is created on
 * mount in the component's container — the server's basemap style if it has one, else a plain background
 * that needs no network — flat (no rotation), with zoom buttons and optionally a scale; it follows the
 * container's size and is removed on unmount. What each map draws stays in its component (`onCreate`).
 */
import 'maplibre-gl/dist/maplibre-gl.css'
import type { FeatureCollection } from 'geojson'
import { Map as MapLibreMap, NavigationControl, ScaleControl } from 'maplibre-gl'
import { onBeforeUnmount, onMounted, shallowRef, toValue, type MaybeRefOrGetter, type Ref, type ShallowRef } from 'vue'
import { api, unwrap } from '@/api/client'
import type { BoundaryLevel } from '@/api/types'
import type { BBox } from '@/lib/geometry'
import { DETAIL_ZOOM } from '@/lib/levels'
import { useMetaStore } from '@/stores/meta'
import { offlineStyle } from './mapStyle'

/** Where a map opens before it is fitted to what it shows: the city. */
export const CITY_CENTRE: [number, number] = [117.39, 32.92]

export interface MapViewOptions {
  /** the opening view, read when the map is created (the city's centre when there is none) */
  center?: MaybeRefOrGetter<[number, number] | null | undefined>
  zoom: MaybeRefOrGetter<number>
  /** a metric scale bar at the bottom right */
  scale?: boolean
  /** the component's own sources, layers and handlers (add layers on the map's `load`) */
  onCreate: (map: MapLibreMap) => void
  /** the component's own clean-up (popups, markers) before the map is removed */
  onDispose?: () => void
}

export function useMapView(container: Ref<HTMLElement | undefined | null>, options: MapViewOptions): ShallowRef<MapLibreMap | null> {
  const map = shallowRef<MapLibreMap | null>(null)
  const metaStore = useMetaStore()
  let observer: ResizeObserver | null = null
  let unmounted = false

  onMounted(async () => {
    if (!container.value) return
    await metaStore.load().catch(() => undefined)
    if (unmounted || !container.value) return
    const styleUrl = metaStore.meta?.map_style_url ?? null
    const m = new MapLibreMap({
      container: container.value,
      style: styleUrl ?? offlineStyle(),
      center: toValue(options.center) ?? CITY_CENTRE,
      zoom: toValue(options.zoom),
      attributionControl: styleUrl ? {} : false,
      dragRotate: false,
      pitchWithRotate: false,
    })
    m.touchZoomRotate.disableRotation()
    m.addControl(new NavigationControl({ showCompass: false }), 'top-right')
    if (options.scale) m.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-right')
    map.value = m
    options.onCreate(m)
    observer = new ResizeObserver(() => m.resize())
    observer.observe(container.value)
  })

  onBeforeUnmount(() => {
    unmounted = true
    observer?.disconnect()
    options.onDispose?.()
    map.value?.remove()
    map.value = null
  })

  return map
}

/** Fit the view to a box (without animation: a map that opens or changes its subject jumps there). */
export function fitBox(map: MapLibreMap, box: BBox | null, padding: number, maxZoom: number): void {
  if (!box) return
  map.fitBounds(
    [
      [box[0], box[1]],
      [box[2], box[3]],
    ],
    { padding, animate: false, maxZoom },
  )
}

/** The box around all the given boxes; null when there are none. */
export function unionBox(boxes: readonly (BBox | null)[]): BBox | null {
  const found = boxes.filter((b): b is BBox => b !== null)
  if (!found.length) return null
  return [Math.min(...found.map((b) => b[0])), Math.min(...found.map((b) => b[1])), Math.max(...found.map((b) => b[2])), Math.max(...found.map((b) => b[3]))]
}

/** The boundaries of one level (the children of `parentCode`, or the whole level of the user's scope), simplified for its closest view. */
export async function fetchBoundaries(level: BoundaryLevel, parentCode?: string | null): Promise<FeatureCollection> {
  const query = { level, zoom: DETAIL_ZOOM[level], ...(parentCode ? { parent_code: parentCode } : {}) }
  return (await unwrap(api.GET('/api/v1/geo/boundaries', { params: { query } }))) as unknown as FeatureCollection
}

/** A pointer cursor over the features of a layer (they can be clicked). */
export function pointerOver(map: MapLibreMap, layer: string): void {
  map.on('mouseenter', layer, () => (map.getCanvas().style.cursor = 'pointer'))
  map.on('mouseleave', layer, () => (map.getCanvas().style.cursor = ''))
}
