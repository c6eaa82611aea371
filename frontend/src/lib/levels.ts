/**
 * Which administrative level the map draws at a zoom, and how its boundaries are fetched.
 *
 * The city (about 100 km across) fits at zoom ~9, a district at ~10–11, a street at ~12, a community
 * at ~13–15 and a grid at 15+. A user never sees levels above their scope's children (a street's staff
 * start at communities), and a grid worker always sees grids.
 */
import type { BoundaryLevel, Level } from '@/api/types'

export const MAP_LEVELS: readonly BoundaryLevel[] = ['district', 'street', 'community', 'grid']

/** Lowest zoom at which each level is drawn. */
export const LEVEL_MIN_ZOOM: Readonly<Record<BoundaryLevel, number>> = {
  district: 0,
  street: 10,
  community: 11.5,
  grid: 13,
}

/**
 * The `zoom` sent with `/geo/boundaries` per level: the top of the band in which the level is drawn, so
 * the server's simplification suits the closest view of it (grids are drawn up to the maximum zoom).
 */
export const DETAIL_ZOOM: Readonly<Record<BoundaryLevel, number>> = {
  district: 10,
  street: 12,
  community: 13,
  grid: 16,
}

const RANK: Readonly<Record<Level, number>> = { city: 0, district: 1, street: 2, community: 3, grid: 4 }

export function levelRank(level: Level): number {
  return RANK[level]
}

/** The first level drawn for a scope: the scope's children (or the grid itself for a grid worker). */
export function firstMapLevel(scopeLevel: Level): BoundaryLevel {
  const rank = Math.min(RANK[scopeLevel] + 1, RANK.grid)
  return MAP_LEVELS[rank - 1] as BoundaryLevel
}

/** The level to draw at `zoom` for a user whose scope is at `scopeLevel`. */
export function levelForZoom(zoom: number, scopeLevel: Level = 'city'): BoundaryLevel {
  let chosen: BoundaryLevel = 'district'
  for (const level of MAP_LEVELS) {
    if (zoom >= LEVEL_MIN_ZOOM[level]) chosen = level
  }
  const first = firstMapLevel(scopeLevel)
  return RANK[chosen] < RANK[first] ? first : chosen
}

/** The level whose features are the parents of `level` on the map (null for districts). */
export function parentLevel(level: BoundaryLevel): BoundaryLevel | null {
  const index = MAP_LEVELS.indexOf(level)
  return index > 0 ? (MAP_LEVELS[index - 1] as BoundaryLevel) : null
}

/**
 * Whether all of `level` within the user's scope is fetched in one request. Districts and streets are
 * few; communities and grids are fetched per visible parent unless the scope is small (the scope is the
 * parent level or below it, e.g. a community's staff fetch all their grids at once).
 */
export function fetchWholeScope(level: BoundaryLevel, scopeLevel: Level): boolean {
  if (level === 'district' || level === 'street') return true
  const parent = parentLevel(level) as BoundaryLevel
  return RANK[scopeLevel] >= RANK[parent]
}
