/**
 * The live layer of the map: new cases and police calls appear as points and fade out over `LIVE_TTL_MS`.
 * The list is kept here (pure functions, tested); the map redraws the GeoJSON every few seconds.
 */
import type { FeatureCollection, Point } from 'geojson'
import type { FeedItem, FeedKind } from './feed'

export interface LivePoint {
  key: string
  kind: FeedKind
  lon: number
  lat: number
  /** when it appeared on the screen, epoch ms */
  born: number
}

export const LIVE_TTL_MS = 15 * 60_000
export const LIVE_MAX_POINTS = 400
/** Opacity of a point about to disappear (it fades from 1 to this, then goes). */
export const MIN_OPACITY = 0.15

export const KIND_COLOURS: Readonly<Record<FeedKind, string>> = {
  case: '#38bdf8',
  incident: '#c084fc',
  warning: '#ff6b6b',
}

/** The points with `item` added (if it has a place and is not there yet), newest last, at most `max`. */
export function addLivePoint(points: readonly LivePoint[], item: FeedItem, now: number, max = LIVE_MAX_POINTS): LivePoint[] {
  if (item.lon === null || item.lat === null || item.kind === 'warning') return [...points]
  if (points.some((p) => p.key === item.key)) return [...points]
  const next = [...points, { key: item.key, kind: item.kind, lon: item.lon, lat: item.lat, born: now }]
  return next.slice(Math.max(0, next.length - max))
}

/** How visible a point born at `born` is at `now`: 1 when new, fading linearly to MIN_OPACITY, 0 once gone. */
export function fade(born: number, now: number, ttl = LIVE_TTL_MS): number {
  const age = Math.max(0, now - born)
  if (age >= ttl) return 0
  return 1 - (1 - MIN_OPACITY) * (age / ttl)
}

/** The points still visible at `now`. */
export function prune(points: readonly LivePoint[], now: number, ttl = LIVE_TTL_MS): LivePoint[] {
  return points.filter((p) => fade(p.born, now, ttl) > 0)
}

/** The GeoJSON of the visible points, each with its `opacity` and `colour`. */
export function liveFeatures(points: readonly LivePoint[], now: number, ttl = LIVE_TTL_MS): FeatureCollection<Point> {
  return {
    type: 'FeatureCollection',
    features: points.flatMap((p) => {
      const opacity = fade(p.born, now, ttl)
      if (opacity <= 0) return []
      return [
        {
          type: 'Feature' as const,
          geometry: { type: 'Point' as const, coordinates: [p.lon, p.lat] },
          properties: { key: p.key, kind: p.kind, opacity: Math.round(opacity * 100) / 100, colour: KIND_COLOURS[p.kind] },
        },
      ]
    }),
  }
}
