/**
 * The big screen's map style and layers: a dark background (no basemap needed, works offline), the areas
 * under the one shown filled by their safety-index band, the live points, and the workers on duty.
 */
import type { Feature, FeatureCollection, Geometry } from 'geojson'
import type { LayerSpecification, StyleSpecification } from 'maplibre-gl'
import type { BoundaryFeature } from '@/api/types'
import { bbox, labelPoint, type BBox } from '@/lib/geometry'
import { BAND_COLOURS, BANDS, isBand, type Band } from '@/modules/safety/bands'
import type { Tone } from './feed'

export const AREA_SOURCE = 'cmd-areas'
export const AREA_FILL = 'cmd-areas-fill'
export const AREA_LINE = 'cmd-areas-line'
export const AREA_SELECTED = 'cmd-areas-selected'
export const LIVE_SOURCE = 'cmd-live'
export const LIVE_LAYER = 'cmd-live-points'
export const POSITION_SOURCE = 'cmd-positions'
export const POSITION_LAYER = 'cmd-positions-points'

/** Areas without a score on the dark map: a muted blue, so banded areas stand out. */
export const NO_SCORE_COLOUR = '#27436b'
export const BACKGROUND = '#06101f'

export function darkStyle(): StyleSpecification {
  return { version: 8, sources: {}, layers: [{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND } }] }
}

export interface AreaScore {
  score: number | null
  band: Band | null
}

export interface DrawnArea {
  code: string
  name: string
  level: string
  feature: BoundaryFeature
  bbox: BBox | null
  label: [number, number] | null
}

export function drawnArea(feature: BoundaryFeature): DrawnArea {
  const p = feature.properties
  return { code: p.code, name: p.name, level: p.level, feature, bbox: bbox(feature.geometry), label: labelPoint(feature.geometry) }
}

/** The union of the areas' boxes (null when none has one). */
export function unionBox(areas: readonly DrawnArea[]): BBox | null {
  let box: BBox | null = null
  for (const a of areas) {
    if (!a.bbox) continue
    box = box ? [Math.min(box[0], a.bbox[0]), Math.min(box[1], a.bbox[1]), Math.max(box[2], a.bbox[2]), Math.max(box[3], a.bbox[3])] : [...a.bbox]
  }
  return box
}

/** The areas as GeoJSON, each with its `band` and `score` (when the index has one), and `selected`. */
export function areaCollection(areas: readonly DrawnArea[], scores: ReadonlyMap<string, AreaScore>, selected: string | null): FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: areas.map(
      (a): Feature => ({
        type: 'Feature',
        geometry: a.feature.geometry as unknown as Geometry,
        properties: {
          code: a.code,
          name: a.name,
          level: a.level,
          band: scores.get(a.code)?.band ?? null,
          score: scores.get(a.code)?.score ?? null,
          selected: a.code === selected,
        },
      }),
    ),
  }
}

/** How many of the areas carry a band (for the e2e test and the legend's "no data" note). */
export function bandedCount(areas: readonly DrawnArea[], scores: ReadonlyMap<string, AreaScore>): number {
  return areas.filter((a) => isBand(scores.get(a.code)?.band)).length
}

export function bandFill(): unknown[] {
  return ['match', ['coalesce', ['get', 'band'], ''], ...BANDS.flatMap((b) => [b, BAND_COLOURS[b]]), NO_SCORE_COLOUR]
}

export function mapLayers(): LayerSpecification[] {
  return [
    {
      id: AREA_FILL,
      type: 'fill',
      source: AREA_SOURCE,
      paint: {
        'fill-color': bandFill() as never,
        'fill-opacity': ['case', ['boolean', ['feature-state', 'hover'], false], 0.82, ['get', 'selected'], 0.78, 0.55] as never,
      },
    },
    {
      id: AREA_LINE,
      type: 'line',
      source: AREA_SOURCE,
      layout: { 'line-join': 'round' },
      paint: { 'line-color': '#a5c8ff', 'line-width': 1.2, 'line-opacity': 0.85 },
    },
    {
      id: AREA_SELECTED,
      type: 'line',
      source: AREA_SOURCE,
      filter: ['==', ['get', 'selected'], true],
      layout: { 'line-join': 'round' },
      paint: { 'line-color': '#ffe066', 'line-width': 3.5 },
    },
    {
      id: POSITION_LAYER,
      type: 'circle',
      source: POSITION_SOURCE,
      paint: {
        'circle-color': '#5eead4',
        'circle-radius': 4.5,
        'circle-stroke-color': '#06101f',
        'circle-stroke-width': 1.5,
      },
    },
    {
      id: LIVE_LAYER,
      type: 'circle',
      source: LIVE_SOURCE,
      paint: {
        'circle-color': ['get', 'colour'] as never,
        'circle-opacity': ['get', 'opacity'] as never,
        'circle-radius': ['interpolate', ['linear'], ['get', 'opacity'], 0, 3, 1, 7] as never,
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1.2,
        'circle-stroke-opacity': ['get', 'opacity'] as never,
      },
    },
  ]
}

// -- warnings on the map ----------------------------------------------------------------------------------

export interface WarningMark {
  id: number
  areaCode: string
  tone: Tone
  title: string
}

export interface WarningPin {
  /** the drawn area the warnings lie in */
  code: string
  lon: number
  lat: number
  tone: Tone
  /** the warnings, worst first (a click opens the first) */
  ids: number[]
  title: string
}

const TONE_ORDER: readonly Tone[] = ['danger', 'warning', 'notice', 'info']

/**
 * One pin per drawn area holding open warnings (its own or an area inside it), at the area's label point,
 * coloured by the worst of them. Warnings about a larger area than those drawn are in the list only.
 */
export function warningPins(warnings: readonly WarningMark[], areas: readonly DrawnArea[]): WarningPin[] {
  const pins = new Map<string, { area: DrawnArea; marks: WarningMark[] }>()
  for (const w of warnings) {
    const area = areas.find((a) => w.areaCode.startsWith(a.code))
    if (!area?.label) continue
    const pin = pins.get(area.code) ?? { area, marks: [] }
    pin.marks.push(w)
    pins.set(area.code, pin)
  }
  return [...pins.values()].map(({ area, marks }) => {
    const sorted = [...marks].sort((a, b) => TONE_ORDER.indexOf(a.tone) - TONE_ORDER.indexOf(b.tone))
    const [lon, lat] = area.label as [number, number]
    return {
      code: area.code,
      lon,
      lat,
      tone: sorted[0]?.tone ?? 'notice',
      ids: sorted.map((m) => m.id),
      title: sorted.map((m) => m.title).join('\n'),
    }
  })
}
