/**
 * The live feed of the big screen: the latest case reports, police calls and warnings, newest first, at most
 * `FEED_LIMIT` of them. It is filled from the API on load and from the live stream afterwards; an event only
 * says what happened (ids, codes), so an item made from an event may later be replaced by the same item read
 * from the API (same `key`). Items outside the area shown are left out.
 */
import { formatDateTime } from '@/lib/format'
import { inArea, type AreaStep } from './drill'

export type FeedKind = 'case' | 'incident' | 'warning'
/** How an item is coloured: by a case's card, a warning's severity or a call's source. */
export type Tone = 'info' | 'notice' | 'warning' | 'danger'

export interface FeedItem {
  /** `kind:id`, unique in the feed */
  key: string
  kind: FeedKind
  id: number
  /** when it happened, epoch ms */
  at: number
  title: string
  /** the second line (category, source, area) */
  detail: string
  tone: Tone
  /** the finest division it is placed in (for the area filter) */
  areaCode: string | null
  lon: number | null
  lat: number | null
}

export const FEED_LIMIT = 60

export function time(value: string | null | undefined): number | null {
  if (!value) return null
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? null : ms
}

/** The feed with `incoming` merged in: one item per key (the incoming one wins), newest first, cut to `limit`. */
export function mergeFeed(current: readonly FeedItem[], incoming: readonly FeedItem[], limit = FEED_LIMIT): FeedItem[] {
  const byKey = new Map<string, FeedItem>()
  for (const item of current) byKey.set(item.key, item)
  for (const item of incoming) byKey.set(item.key, item)
  return [...byKey.values()].sort((a, b) => b.at - a.at || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, limit)
}

/** When an item happened, as the feed shows it: `14:22:19` today (Shanghai), `11-05 14:22` before. */
export function whenLabel(at: number, now: number): string {
  const value = formatDateTime(new Date(at).toISOString())
  const today = formatDateTime(new Date(now).toISOString()).slice(0, 10)
  return value.slice(0, 10) === today ? value.slice(11, 19) : `${value.slice(5, 10)} ${value.slice(11, 16)}`
}

/** The items of the feed that lie in `area`. */
export function feedInArea(items: readonly FeedItem[], area: AreaStep | undefined): FeedItem[] {
  return items.filter((item) => inArea(item.areaCode, area))
}

// -- from the live stream ---------------------------------------------------------------------------------

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

export function cardTone(card: unknown): Tone {
  return card === 'red' ? 'danger' : card === 'yellow' ? 'warning' : 'info'
}

/**
 * A `case` event (cases/events.py: id, code, status, category_code, lon, lat, grid_code, card, action) as a
 * feed item: only new reports (`action = report`) are news for the feed. `categoryName` names the category.
 */
export function caseEventItem(payload: Record<string, unknown>, now: number, categoryName: (code: string) => string): FeedItem | null {
  if (payload.action !== 'report') return null
  const id = num(payload.id)
  const code = str(payload.code)
  if (id === null || code === null) return null
  const category = str(payload.category_code)
  return {
    key: `case:${id}`,
    kind: 'case',
    id,
    at: now,
    title: category ? categoryName(category) : code,
    detail: code,
    tone: cardTone(payload.card),
    areaCode: str(payload.grid_code),
    lon: num(payload.lon),
    lat: num(payload.lat),
  }
}

/** Whether a `case` event should make the figures be read again (any action changes some figure). */
export function caseEventTouches(payload: Record<string, unknown>, area: AreaStep | undefined): boolean {
  if (payload.resync === true) return true
  return inArea(str(payload.grid_code), area)
}

// -- police calls and incidents (safety/incidents.py) ----------------------------------------------------

/**
 * The key of a call: its event carries no id, so calls are known by source, time, place and category (the
 * same from the API and from the stream).
 */
export function incidentKey(source: string, occurredAt: number, division: string, category: string): string {
  return `incident:${source}:${occurredAt}:${division}:${category}`
}

/** Calls with casualties stand out. */
export function casualtyTone(deaths: unknown, injuries: unknown): Tone {
  if (typeof deaths === 'number' && deaths > 0) return 'danger'
  if (typeof injuries === 'number' && injuries > 0) return 'warning'
  return 'info'
}

export interface IncidentLike {
  source: string
  category_code: string
  category_name?: string | null
  occurred_at: string
  division_code: string
  grid_code?: string | null
  address?: string | null
  lon: number | null
  lat: number | null
  deaths?: number
  injuries?: number
}

/**
 * A call (an API row, or a `safety.incident` event: source, category_code, occurred_at, division_code, lon,
 * lat) as a feed item; `names` names categories and sources. A bulk event (`resync`) is no item.
 */
export function incidentItem(
  value: Record<string, unknown> | IncidentLike,
  names: { category: (code: string) => string; source: (source: string) => string },
): FeedItem | null {
  const v = value as Record<string, unknown>
  const source = str(v.source)
  const category = str(v.category_code)
  const division = str(v.division_code)
  const at = time(str(v.occurred_at))
  if (!source || !category || !division || at === null) return null
  const place = str(v.address)
  return {
    key: incidentKey(source, at, division, category),
    kind: 'incident',
    id: num(v.id) ?? 0,
    at,
    title: str(v.category_name) ?? names.category(category),
    detail: [names.source(source), place].filter(Boolean).join(' · '),
    tone: casualtyTone(v.deaths, v.injuries),
    areaCode: str(v.grid_code) ?? division,
    lon: num(v.lon),
    lat: num(v.lat),
  }
}

// -- warnings (safety/warnings.py) -------------------------------------------------------------------------

/**
 * A warning (an API row, or a `safety.warning` event: id, kind, subject, level, area_code, severity, status,
 * title, action) as a feed item; only new warnings are news (`created`, or any row read from the API).
 */
export function warningItem(value: Record<string, unknown>, at: number, areaName: string | null = null): FeedItem | null {
  const id = num(value.id)
  const title = str(value.title)
  if (id === null || title === null) return null
  if (value.action !== undefined && value.action !== 'created') return null
  return {
    key: `warning:${id}`,
    kind: 'warning',
    id,
    at: time(str(value.created_at)) ?? at,
    title,
    detail: str(value.area_name) ?? areaName ?? str(value.area_code) ?? '',
    tone: severityTone(value.severity),
    areaCode: str(value.area_code),
    lon: null,
    lat: null,
  }
}

// -- severities -----------------------------------------------------------------------------------------------

// The warnings' severities (safety/warnings.py: notice < serious < interview < fatal) and the usual words a
// police feed uses for an incident's severity.
const SEVERITY_TONE: Readonly<Record<string, Tone>> = {
  info: 'info',
  low: 'notice',
  notice: 'notice',
  medium: 'warning',
  warning: 'warning',
  serious: 'warning',
  high: 'danger',
  severe: 'danger',
  critical: 'danger',
  interview: 'danger',
  fatal: 'danger',
}

/** The tone of a warning's (or a call's) severity; unknown severities read as a notice. */
export function severityTone(severity: unknown): Tone {
  return (typeof severity === 'string' && SEVERITY_TONE[severity.toLowerCase()]) || 'notice'
}

/** Severities worst first (for sorting a list of warnings). */
export function severityRank(severity: unknown): number {
  const order: Tone[] = ['danger', 'warning', 'notice', 'info']
  return order.indexOf(severityTone(severity))
}
