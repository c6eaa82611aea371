/** Which deadline a case runs against now, and how far it is (the inbox's countdown). */
export interface Dated {
  status: string
  accept_due: string | null
  handle_due: string | null
}

const ACCEPTING = new Set(['reported', 'escalated'])
const FINISHED = new Set(['closed', 'rejected'])
const MINUTE = 60_000

/** The acceptance deadline while the case waits to be taken, the handling deadline after; none once finished. */
export function currentDue(c: Dated): string | null {
  if (FINISHED.has(c.status)) return null
  return ACCEPTING.has(c.status) ? c.accept_due : c.handle_due
}

export interface Countdown {
  overdue: boolean
  days: number
  hours: number
  minutes: number
}

/** Time left to `due` (or past it, `overdue`), in whole days, hours and minutes. */
export function countdown(due: string, now: Date = new Date()): Countdown {
  const diff = Date.parse(due) - now.getTime()
  const total = Math.floor(Math.abs(diff) / MINUTE)
  return {
    overdue: diff < 0,
    days: Math.floor(total / 1440),
    hours: Math.floor((total % 1440) / 60),
    minutes: total % 60,
  }
}
