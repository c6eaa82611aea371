/**
 * The area the big screen shows, as a trail from the principal's own area down to the one clicked on the
 * map (district → street → community → grid). Every panel follows the last step. The trail never goes above
 * its first step (the user's scope) and goes down one level per click.
 */
import type { BoundaryLevel, Level } from '@/api/types'

export interface AreaStep {
  code: string
  name: string
  level: Level
}

const ORDER: readonly Level[] = ['city', 'district', 'street', 'community', 'grid']

export function isLevel(value: unknown): value is Level {
  return typeof value === 'string' && (ORDER as readonly string[]).includes(value)
}

/** The level of an area's children on the map (null below a grid). */
export function childLevel(level: Level): BoundaryLevel | null {
  const next = ORDER[ORDER.indexOf(level) + 1]
  return (next as BoundaryLevel | undefined) ?? null
}

/** The area shown: the last step (undefined before the user's scope is known). */
export function currentStep(trail: readonly AreaStep[]): AreaStep | undefined {
  return trail[trail.length - 1]
}

/**
 * The trail after a click on `step`: one level down from the current area (the children shown), or the same
 * level (a sibling grid while a grid is shown); anything else leaves the trail as it is.
 */
export function drillInto(trail: readonly AreaStep[], step: AreaStep): AreaStep[] {
  const current = currentStep(trail)
  if (!current) return [step]
  if (step.code === current.code) return [...trail]
  if (step.level === childLevel(current.level)) return [...trail, step]
  // At the bottom the map shows the grid among its siblings: a click moves sideways.
  if (current.level === 'grid' && step.level === 'grid' && trail.length > 1) return [...trail.slice(0, -1), step]
  return [...trail]
}

/** The trail cut back to step `index` (the breadcrumb); never emptier than the first step. */
export function backTo(trail: readonly AreaStep[], index: number): AreaStep[] {
  if (trail.length === 0) return []
  const keep = Math.max(0, Math.min(index, trail.length - 1))
  return trail.slice(0, keep + 1)
}

/** One level up (Escape / the "up" button); the first step stays. */
export function up(trail: readonly AreaStep[]): AreaStep[] {
  return backTo(trail, trail.length - 2)
}

/**
 * Whether a place with the division `code` (a grid, or any division) lies in `area`. Codes follow the
 * national scheme: a child's code starts with its parent's (a city's children share its first 4 digits).
 */
export function inArea(code: string | null | undefined, area: Pick<AreaStep, 'code' | 'level'> | undefined): boolean {
  if (!area) return true
  if (!code) return false
  const prefix = area.level === 'city' ? area.code.slice(0, 4) : area.code
  return code.startsWith(prefix)
}

/** What the map draws for an area: its children, or for a grid the grids of its community (it highlighted). */
export function mapQuery(area: AreaStep, parentCode: string | null): { level: BoundaryLevel; parentCode: string } | null {
  const children = childLevel(area.level)
  if (children) return { level: children, parentCode: area.code }
  return parentCode ? { level: 'grid', parentCode } : null
}

/** A grid's community from its code (grid = community code + 3 digits). */
export function communityOfGrid(gridCode: string): string | null {
  return gridCode.length === 15 ? gridCode.slice(0, 12) : null
}

/**
 * A division's name as the screen shows it: the committees' formal suffixes dropped (汪街村村民委员会 → 汪街村,
 * 喻义巷社区居民委员会 → 喻义巷社区), so names fit on the map; tooltips keep the full name.
 */
export function shortName(name: string): string {
  const short = name
    .replace(/村民委员会$/, '')
    .replace(/社区居民委员会$/, '社区')
    .replace(/居民委员会$/, '社区')
    .replace(/居委会$/, '社区')
  if (!short) return name
  // "汪街村村民委员会" → "汪街村"; "汪街村民委员会" → "汪街" + 村.
  return /村民委员会$/.test(name) && !short.endsWith('村') ? `${short}村` : short
}

/** A child's name under its parent's, without the parent's name in front (喻义巷社区第6网格 → 第6网格). */
export function childName(name: string, parentName: string | null | undefined): string {
  const short = shortName(name)
  if (!parentName) return short
  const parent = shortName(parentName)
  return short.length > parent.length && short.startsWith(parent) ? short.slice(parent.length) : short
}
