/** The visits dashboard's ordering and chart data (kept apart from the components for tests). */
import type { OverdueGrid } from '@/api/types'

/** Worst first: most overdue, then most due within 7 days, then most active records, then by code. */
export function worstFirst(rows: readonly OverdueGrid[]): OverdueGrid[] {
  return [...rows].sort(
    (a, b) =>
      b.overdue - a.overdue ||
      b.due_within_7_days - a.due_within_7_days ||
      b.active - a.active ||
      a.grid_code.localeCompare(b.grid_code),
  )
}

/** The bars to draw: grids with any overdue or due-soon visit, worst first, at most `limit`. */
export function chartRows(rows: readonly OverdueGrid[], limit = 15): OverdueGrid[] {
  return worstFirst(rows)
    .filter((r) => r.overdue > 0 || r.due_within_7_days > 0)
    .slice(0, limit)
}
