/**
 * Grid workers on duty who share their position (command/positions.py): one point per worker, replaced by
 * each `command.position` event, removed by `command.position_removed` and once its last share is older
 * than the server's freshness limit (15 minutes: the phone stopped sending). Nothing else is kept: no trail.
 */
import type { FeatureCollection, Point } from 'geojson'
import { inArea, type AreaStep } from './drill'

export interface WorkerPosition {
  userId: number
  name: string
  lon: number
  lat: number
  gridCode: string | null
  /** the last share, epoch ms */
  sharedAt: number
}

export const POSITION_FRESH_MS = 15 * 60_000

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

/** A position from an API row or a `command.position` event (same field names); null when unusable. */
export function readPosition(value: Record<string, unknown>): WorkerPosition | null {
  const userId = num(value.user_id)
  const lon = num(value.lon)
  const lat = num(value.lat)
  const sharedAt = typeof value.shared_at === 'string' ? Date.parse(value.shared_at) : Number.NaN
  if (userId === null || lon === null || lat === null || Number.isNaN(sharedAt)) return null
  return {
    userId,
    name: typeof value.display_name === 'string' ? value.display_name : '',
    lon,
    lat,
    gridCode: typeof value.grid_code === 'string' ? value.grid_code : null,
    sharedAt,
  }
}

/** The positions with `next` in place of the worker's earlier one (an older share never replaces a newer). */
export function upsertPosition(positions: readonly WorkerPosition[], next: WorkerPosition): WorkerPosition[] {
  const earlier = positions.find((p) => p.userId === next.userId)
  if (earlier && earlier.sharedAt > next.sharedAt) return [...positions]
  return [...positions.filter((p) => p.userId !== next.userId), next]
}

export function removePosition(positions: readonly WorkerPosition[], userId: unknown): WorkerPosition[] {
  return positions.filter((p) => p.userId !== userId)
}

/** The positions still fresh at `now`, inside `area`. */
export function visiblePositions(positions: readonly WorkerPosition[], now: number, area: AreaStep | undefined): WorkerPosition[] {
  return positions.filter((p) => now - p.sharedAt <= POSITION_FRESH_MS && (p.gridCode === null || inArea(p.gridCode, area)))
}

export function positionFeatures(positions: readonly WorkerPosition[]): FeatureCollection<Point> {
  return {
    type: 'FeatureCollection',
    features: positions.map((p) => ({
      type: 'Feature' as const,
      geometry: { type: 'Point' as const, coordinates: [p.lon, p.lat] },
      properties: { user_id: p.userId, name: p.name },
    })),
  }
}
