/**
 * The live feed of the big screen: the latest case reports, police calls and warnings, newest first, at most
 * `FEED_LIMIT` of them. It is filled from the API on load and from the live stream afterwards; an event only
 * says what happened (ids, codes), so an item made from an event may later be replaced by the same item read
 * from the API (same `key`). Items outside the area shown are left out.
 */
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

// -- severities -----------------------------------------------------------------------------------------------

const SEVERITY_TONE: Readonly<Record<string, Tone>> = {
  info: 'info',
  low: 'notice',
  notice: 'notice',
  medium: 'warning',
  warning: 'warning',
  high: 'danger',
  serious: 'danger',
  severe: 'danger',
  critical: 'danger',
  alert: 'danger',
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
