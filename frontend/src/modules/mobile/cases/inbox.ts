/** Splitting the worker's open cases into the inbox tabs, most urgent first. */
import { currentDue } from './deadline'
import type { CaseRow } from './types'

export type InboxTab = 'todo' | 'verify' | 'mine'

const TODO = new Set(['reported', 'accepted', 'in_progress', 'returned', 'escalated'])
const VERIFY = new Set(['handled', 'verifying'])

function byUrgency(a: CaseRow, b: CaseRow): number {
  const da = currentDue(a)
  const db = currentDue(b)
  if (da && db) return Date.parse(da) - Date.parse(db)
  if (da || db) return da ? -1 : 1
  return b.id - a.id
}

/** To do: open cases held at the worker's own rung; to verify: handled cases waiting for the check. */
export function splitInbox(rows: readonly CaseRow[], ownLevel: string): Record<'todo' | 'verify', CaseRow[]> {
  return {
    todo: rows.filter((c) => TODO.has(c.status) && c.level === ownLevel).sort(byUrgency),
    verify: rows.filter((c) => VERIFY.has(c.status)).sort(byUrgency),
  }
}

/** The cases reported from this phone, newest first. */
export function mine(rows: readonly CaseRow[], ids: readonly number[]): CaseRow[] {
  const wanted = new Set(ids)
  return rows.filter((c) => wanted.has(c.id)).sort((a, b) => b.id - a.id)
}
