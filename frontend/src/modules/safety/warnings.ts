/**
 * Reading a warning for people: its severity as a tag, the detector's figures out of the free-form evidence,
 * and the days of a surge as observed vs expected (from the detections, one a day, and the records behind it).
 */
import { addDays } from './periods'
import type { DayCount } from './charts'

export const SEVERITIES = ['notice', 'serious', 'interview', 'fatal'] as const
export const STATUSES = ['open', 'acknowledged', 'closed'] as const
export const KINDS = ['surge', 'rule', 'hotspot'] as const
export const ACTIONS = ['acknowledge', 'to_case', 'close'] as const
export type WarningAction = (typeof ACTIONS)[number]

type TagType = 'info' | 'warning' | 'danger' | 'success' | 'primary'

/** An Element Plus tag for a severity: grey notice, orange serious, red interview, solid red fatal. */
export function severityTag(severity: string): { type: TagType; effect: 'light' | 'dark' } {
  if (severity === 'fatal') return { type: 'danger', effect: 'dark' }
  if (severity === 'interview') return { type: 'danger', effect: 'light' }
  if (severity === 'serious') return { type: 'warning', effect: 'light' }
  return { type: 'info', effect: 'light' }
}

export function statusTag(status: string): TagType {
  return status === 'open' ? 'danger' : status === 'acknowledged' ? 'warning' : 'success'
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value ? value : null
}

export interface EvidenceFigures {
  observed: number | null
  expected: number | null
  ratio: number | null
  p: number | null
  q: number | null
  model: string | null
  summary: string | null
  rule: string | null
  deaths: number | null
  injuries: number | null
  streak: number | null
  score: number | null
  threshold: number | null
  windowDays: number | null
  /** hotspot forecasts: the grid's usual week, its rank among the city's grids and how many there are */
  usual: number | null
  rank: number | null
  units: number | null
}

export function evidenceFigures(evidence: unknown): EvidenceFigures {
  const e = typeof evidence === 'object' && evidence !== null ? (evidence as Record<string, unknown>) : {}
  const observed = num(e.observed)
  const expected = num(e.expected)
  return {
    observed,
    expected,
    ratio: num(e.ratio) ?? (observed !== null && expected ? observed / expected : null),
    p: num(e.p),
    q: num(e.q),
    model: text(e.model),
    summary: text(e.summary_zh),
    rule: text(e.rule),
    deaths: num(e.deaths),
    injuries: num(e.injuries),
    streak: num(e.streak),
    score: num(e.score),
    threshold: num(e.threshold),
    windowDays: num(e.window_days),
    usual: num(e.usual),
    rank: num(e.rank),
    units: num(e.units),
  }
}

interface Detection {
  first: string
  last: string
  observed: number | null
  expected: number | null
}

function detections(evidence: unknown): Detection[] {
  const list = typeof evidence === 'object' && evidence !== null ? (evidence as Record<string, unknown>).detections : null
  if (!Array.isArray(list)) return []
  return list.flatMap((d) => {
    if (typeof d !== 'object' || d === null) return []
    const r = d as Record<string, unknown>
    const first = text(r.first)
    const last = text(r.last) ?? first
    return first && last ? [{ first, last, observed: num(r.observed), expected: num(r.expected) }] : []
  })
}

const MAX_DAYS = 92

/**
 * The days of a warning's period with what was observed and expected on each: a one-day detection gives both
 * for its day; otherwise the records' days are counted (when they were sent, i.e. the reader may see them).
 * Days with neither stay empty. Null when there is nothing to draw (no daily detection and no records).
 */
export function evidenceDays(
  warning: { period_start: string; period_end: string; evidence: unknown; records?: readonly { day: string }[] | null },
  label: (day: string) => string = (d) => d.slice(5),
): DayCount[] | null {
  const daily = new Map<string, Detection>()
  for (const d of detections(warning.evidence)) if (d.first === d.last) daily.set(d.first, d)
  const counted = new Map<string, number>()
  for (const r of warning.records ?? []) counted.set(r.day, (counted.get(r.day) ?? 0) + 1)
  if (!daily.size && !counted.size) return null
  const out: DayCount[] = []
  for (let day = warning.period_start, i = 0; day <= warning.period_end && i < MAX_DAYS; day = addDays(day, 1), i++) {
    const d = daily.get(day)
    out.push({ label: label(day), observed: d?.observed ?? (warning.records ? (counted.get(day) ?? 0) : null), expected: d?.expected ?? null })
  }
  return out
}

/** The id a live `safety.warning` event is about (null when it names none). */
export function liveWarningId(payload: Record<string, unknown>): number | null {
  for (const key of ['id', 'warning_id']) {
    const value = payload[key]
    if (typeof value === 'number' && Number.isInteger(value)) return value
  }
  return null
}
