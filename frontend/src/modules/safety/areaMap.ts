/**
 * What the safety maps draw, apart from the map library: the boundaries of a level joined to the figures of
 * each area (the index's band and score, or a forecast's score), the extent to fit, and where names go.
 */
import type { Feature, FeatureCollection, Geometry } from 'geojson'
import type { BoundaryLevel, Level } from '@/api/types'
import { bbox, labelPoint, type BBox } from '@/lib/geometry'

/** The figures one area is drawn with. */
export interface AreaPaint {
  code: string
  name?: string | null
  band?: string | null
  score?: number | null
}

export interface BoundaryLike {
  geometry: unknown
  properties: { code: string; name: string } & Record<string, unknown>
}

/** The level below `level` (null below grids). */
export function childLevel(level: Level): BoundaryLevel | null {
  const order: Level[] = ['city', 'district', 'street', 'community', 'grid']
  const next = order[order.indexOf(level) + 1]
  return (next as BoundaryLevel | undefined) ?? null
}

/** Levels strictly below `level`, nearest first (what the level selector offers under an area). */
export function levelsBelow(level: Level): BoundaryLevel[] {
  const out: BoundaryLevel[] = []
  let next = childLevel(level)
  while (next) {
    out.push(next)
    next = childLevel(next)
  }
  return out
}

/**
 * The boundaries joined to their figures. With `only`, features whose code is not listed are dropped (a level
 * fetched for the whole scope, shown under one area); a listed area without a boundary is simply not drawn.
 */
export function paintedCollection(features: readonly BoundaryLike[], areas: readonly AreaPaint[], only = false): FeatureCollection {
  const byCode = new Map(areas.map((a) => [a.code, a]))
  const out: Feature[] = []
  for (const f of features) {
    const code = f.properties.code
    const paint = byCode.get(code)
    if (only && !paint) continue
    out.push({
      type: 'Feature',
      geometry: f.geometry as Geometry,
      properties: {
        code,
        name: paint?.name ?? f.properties.name,
        band: paint?.band ?? null,
        score: paint?.score ?? null,
      },
    })
  }
  return { type: 'FeatureCollection', features: out }
}

/** The box around every feature (null when none has a polygon). */
export function extent(features: readonly { geometry: unknown }[]): BBox | null {
  let box: BBox | null = null
  for (const f of features) {
    const b = bbox(f.geometry)
    if (!b) continue
    box = box ? [Math.min(box[0], b[0]), Math.min(box[1], b[1]), Math.max(box[2], b[2]), Math.max(box[3], b[3])] : b
  }
  return box
}

/** Where each feature's name goes (inside the polygon), by code. */
export function labelPoints(features: readonly { geometry: unknown; properties: { code: string } }[]): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>()
  for (const f of features) {
    const p = labelPoint(f.geometry)
    if (p) out.set(f.properties.code, p)
  }
  return out
}

/** Graded shades for a forecast's score (light → dark red), as `score` 0–1 of the highest. */
export const HEAT_COLOURS: readonly string[] = ['#fff3bf', '#ffd43b', '#ffa94d', '#f76707', '#e03131', '#a61e4d']

/** A MapLibre `fill-color` for a relative `value` in 0–1 across HEAT_COLOURS. */
export function heatExpression(property = 'value'): unknown[] {
  const stops = HEAT_COLOURS.flatMap((colour, i) => [i / (HEAT_COLOURS.length - 1), colour])
  return ['interpolate', ['linear'], ['coalesce', ['get', property], 0], ...stops]
}

/** Each value as a share of the largest (0 when all are 0 or missing). */
export function relative(values: readonly (number | null | undefined)[]): number[] {
  const finite = values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0))
  const max = Math.max(0, ...finite)
  return finite.map((v) => (max > 0 ? Math.max(0, v) / max : 0))
}

/** The box around points [lon, lat] (null for none). */
export function pointExtent(points: readonly { lon: number; lat: number }[]): BBox | null {
  const ok = points.filter((p) => Number.isFinite(p.lon) && Number.isFinite(p.lat))
  if (!ok.length) return null
  const lons = ok.map((p) => p.lon)
  const lats = ok.map((p) => p.lat)
  return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)]
}
