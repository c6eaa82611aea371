/** What the hotspot page offers and how it reads a forecast and a back-test (no map, no Vue). */
import type { FeatureCollection } from 'geojson'
import { relative } from './areaMap'

export const METHODS = ['counts', 'kde', 'self_exciting', 'near_repeat'] as const
export const UNITS = ['cell', 'grid'] as const
export type HotspotUnit = (typeof UNITS)[number]
export const CELL_SIZES = [250, 500, 1000, 2000] as const
export const COVERAGES = [0.01, 0.02, 0.05, 0.1, 0.2] as const

export interface BacktestRow {
  coverage: string
  hitRate: number | null
  pai: number | null
  pei: number | null
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

/**
 * The back-test figures of one method (`{"1%": {hit_rate, pai, pei, area_share}, …, jaccard_top5, …}`) as
 * rows by coverage, smallest first; anything else in the object is left out.
 */
export function backtestRows(figures: unknown): BacktestRow[] {
  if (typeof figures !== 'object' || figures === null) return []
  const rows: (BacktestRow & { order: number })[] = []
  for (const [key, value] of Object.entries(figures as Record<string, unknown>)) {
    const match = /^(\d+(?:\.\d+)?)%$/.exec(key)
    if (!match || typeof value !== 'object' || value === null) continue
    const v = value as Record<string, unknown>
    rows.push({ coverage: key, order: Number(match[1]), hitRate: num(v.hit_rate), pai: num(v.pai), pei: num(v.pei) })
  }
  return rows.sort((a, b) => a.order - b.order).map(({ order: _order, ...row }) => row)
}

export interface HotspotLike {
  id: string
  geometry: unknown
  properties: { id: string; rank: number; score: number; name?: string | null } & Record<string, unknown>
}

/**
 * The flagged units for the map: each with `value`, the square root of its score as a share of the hottest's
 * (scores are skewed: a linear scale paints all but the top few the palest shade), and its `rank`.
 */
export function heatCollection(features: readonly HotspotLike[]): FeatureCollection {
  const values = relative(features.map((f) => f.properties.score)).map(Math.sqrt)
  return {
    type: 'FeatureCollection',
    features: features.map((f, i) => ({
      type: 'Feature',
      id: i,
      geometry: f.geometry as FeatureCollection['features'][number]['geometry'],
      properties: { id: f.properties.id, rank: f.properties.rank, score: f.properties.score, value: values[i] ?? 0 },
    })),
  }
}

/** A unit as a person names it: the grid's name, or the cell's row and column. */
export function unitName(properties: { id: string; name?: string | null }, cellWord: (row: number, col: number) => string): string {
  if (properties.name) return properties.name
  const cell = /^r(\d+)c(\d+)$/.exec(properties.id)
  return cell ? cellWord(Number(cell[1]), Number(cell[2])) : properties.id
}
