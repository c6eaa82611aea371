/**
 * Index periods on the local calendar, as the server counts them (src/civicgrid/safety/periods.py): a day,
 * a dekad (旬: 1–10, 11–20, 21–end of month), an ISO week (Monday to Sunday) and a month. A period is
 * named by its type and its first day, written `YYYY-MM-DD`. Dates are handled as calendar days (UTC
 * arithmetic on the day only), so the browser's own time zone never shifts a period.
 */

export type PeriodType = 'day' | 'dekad' | 'week' | 'month'
export const PERIOD_TYPES: readonly PeriodType[] = ['day', 'dekad', 'week', 'month']

export function isPeriodType(value: unknown): value is PeriodType {
  return typeof value === 'string' && (PERIOD_TYPES as readonly string[]).includes(value)
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/

function parse(day: string): Date {
  const match = DAY_RE.exec(day)
  if (!match) throw new RangeError(`not a day: ${day}`)
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])))
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== day) throw new RangeError(`not a day: ${day}`)
  return date
}

function format(date: Date): string {
  return date.toISOString().slice(0, 10)
}

export function isDay(value: unknown): value is string {
  if (typeof value !== 'string') return false
  try {
    parse(value)
    return true
  } catch {
    return false
  }
}

export function addDays(day: string, days: number): string {
  const date = parse(day)
  date.setUTCDate(date.getUTCDate() + days)
  return format(date)
}

function addMonths(day: string, months: number): string {
  const date = parse(day)
  const month = date.getUTCMonth() + months
  const target = new Date(Date.UTC(date.getUTCFullYear(), month, 1))
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate()
  target.setUTCDate(Math.min(date.getUTCDate(), last))
  return format(target)
}

/** The first day of the period of `type` that contains `day`. */
export function periodStart(type: PeriodType, day: string): string {
  const date = parse(day)
  if (type === 'day') return day
  if (type === 'week') {
    const weekday = (date.getUTCDay() + 6) % 7 // Monday 0
    return addDays(day, -weekday)
  }
  const d = date.getUTCDate()
  if (type === 'dekad') return `${day.slice(0, 8)}${d <= 10 ? '01' : d <= 20 ? '11' : '21'}`
  return `${day.slice(0, 8)}01`
}

/** The first day of the period after the one starting at `start`. */
export function nextStart(type: PeriodType, start: string): string {
  if (type === 'day') return addDays(start, 1)
  if (type === 'week') return addDays(start, 7)
  if (type === 'dekad') {
    const d = parse(start).getUTCDate()
    return d < 21 ? addDays(start, 10) : addMonths(`${start.slice(0, 8)}01`, 1)
  }
  return addMonths(start, 1)
}

/** The first day of the period before the one starting at `start`. */
export function previousStart(type: PeriodType, start: string): string {
  return periodStart(type, addDays(start, -1))
}

/** The last day (inclusive) of the period starting at `start`. */
export function periodEnd(type: PeriodType, start: string): string {
  return addDays(nextStart(type, start), -1)
}

/** Move by `steps` periods (negative: back). */
export function shiftPeriod(type: PeriodType, start: string, steps: number): string {
  let current = periodStart(type, start)
  for (let i = 0; i < Math.abs(steps); i++) current = steps > 0 ? nextStart(type, current) : previousStart(type, current)
  return current
}

/** The starts of the last `count` periods ending with the one that starts at `start`, oldest first. */
export function lastPeriods(type: PeriodType, start: string, count: number): string[] {
  const out: string[] = []
  let current = periodStart(type, start)
  for (let i = 0; i < count; i++) {
    out.unshift(current)
    current = previousStart(type, current)
  }
  return out
}

/** The most recent period that has ended by `today` (a day is complete the day after). */
export function lastCompletePeriod(type: PeriodType, today: string): string {
  return previousStart(type, periodStart(type, today))
}

/** ISO week number and its year. */
export function isoWeek(day: string): { year: number; week: number } {
  const date = parse(day)
  const weekday = (date.getUTCDay() + 6) % 7
  const thursday = new Date(date)
  thursday.setUTCDate(date.getUTCDate() - weekday + 3)
  const year = thursday.getUTCFullYear()
  const firstThursday = new Date(Date.UTC(year, 0, 4))
  const firstWeekday = (firstThursday.getUTCDay() + 6) % 7
  firstThursday.setUTCDate(firstThursday.getUTCDate() - firstWeekday + 3)
  const week = 1 + Math.round((thursday.getTime() - firstThursday.getTime()) / (7 * 86_400_000))
  return { year, week }
}

/** Today's day in Asia/Shanghai (the server's calendar), whatever the browser's own zone. */
export function shanghaiToday(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
}

const EN_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const ZH_DEKADS = ['上旬', '中旬', '下旬']
const EN_DEKADS = ['early', 'mid', 'late']

function dekadIndex(start: string): number {
  const d = parse(start).getUTCDate()
  return d <= 10 ? 0 : d <= 20 ? 1 : 2
}

/**
 * A period as a person names it: `2024-05-03`, `2024年5月上旬`, `2024年第18周`, `2024年5月` in Chinese;
 * `3 May 2024`, `May 2024, early`, `2024 W18`, `May 2024` in English. `short` drops the year (chart axes).
 */
export function periodLabel(type: PeriodType, start: string, locale: string, short = false): string {
  const date = parse(start)
  const y = date.getUTCFullYear()
  const m = date.getUTCMonth() + 1
  const d = date.getUTCDate()
  const zh = locale !== 'en'
  if (type === 'day') {
    if (zh) return short ? `${m}/${d}` : start
    return short ? `${d} ${EN_MONTHS[m - 1]}` : `${d} ${EN_MONTHS[m - 1]} ${y}`
  }
  if (type === 'week') {
    const w = isoWeek(start)
    if (zh) return short ? `第${w.week}周` : `${w.year}年第${w.week}周`
    return short ? `W${w.week}` : `${w.year} W${w.week}`
  }
  if (type === 'dekad') {
    const i = dekadIndex(start)
    if (zh) return short ? `${m}月${ZH_DEKADS[i]}` : `${y}年${m}月${ZH_DEKADS[i]}`
    return short ? `${EN_MONTHS[m - 1]} ${EN_DEKADS[i]}` : `${EN_MONTHS[m - 1]} ${y}, ${EN_DEKADS[i]}`
  }
  if (zh) return short ? `${m}月` : `${y}年${m}月`
  return short ? EN_MONTHS[m - 1]! : `${EN_MONTHS[m - 1]} ${y}`
}

/** The days of a period as a range, `2024-05-01 – 2024-05-10` (one day alone for a day). */
export function periodRange(type: PeriodType, start: string): string {
  const end = periodEnd(type, start)
  return end === start ? start : `${start} – ${end}`
}
