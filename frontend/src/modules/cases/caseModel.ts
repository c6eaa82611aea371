/**
 * The case pages' rules without the UI: status tag colours, deadlines and countdowns, the list's query from
 * its filters, the category tree, the rungs a case may be handed down to, and which action needs what.
 */
import { ApiError } from '@/api/client'
import type { ActionBody, ActionName, CaseQuery, Category, Extension } from './types'

export const STATUSES = ['reported', 'accepted', 'escalated', 'dispatched', 'in_progress', 'handled', 'verifying', 'returned', 'closed', 'rejected'] as const
export const PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const
/** The ladder, lowest rung first (网格 → 社区 → 街道 → 区县 → 市). */
export const LADDER = ['grid', 'community', 'street', 'district', 'city'] as const
export type Rung = (typeof LADDER)[number]
export type AreaLevel = 'district' | 'street' | 'community' | 'grid'

export interface Tag {
  type: 'primary' | 'success' | 'info' | 'warning' | 'danger'
  effect: 'light' | 'dark' | 'plain'
}

/** One look per status: waiting is amber, being worked blue, done green, sent back red, refused grey. */
const STATUS_TAGS: Record<string, Tag> = {
  reported: { type: 'warning', effect: 'light' },
  escalated: { type: 'warning', effect: 'dark' },
  accepted: { type: 'primary', effect: 'plain' },
  dispatched: { type: 'primary', effect: 'light' },
  in_progress: { type: 'primary', effect: 'dark' },
  handled: { type: 'success', effect: 'light' },
  verifying: { type: 'success', effect: 'plain' },
  returned: { type: 'danger', effect: 'light' },
  closed: { type: 'success', effect: 'dark' },
  rejected: { type: 'info', effect: 'light' },
}

export function statusTag(status: string): Tag {
  return STATUS_TAGS[status] ?? { type: 'info', effect: 'plain' }
}

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

/** Time left to `due` (or past it: `overdue`) in whole days, hours and minutes. */
export function countdown(due: string, now: Date = new Date()): Countdown {
  const diff = Date.parse(due) - now.getTime()
  const total = Math.floor(Math.abs(diff) / MINUTE)
  return { overdue: diff < 0, days: Math.floor(total / 1440), hours: Math.floor((total % 1440) / 60), minutes: total % 60 }
}

/** The rungs below the one holding the case, nearest first (what 交办 may choose). */
export function lowerRungs(level: string): Rung[] {
  const index = LADDER.indexOf(level as Rung)
  return index <= 0 ? [] : LADDER.slice(0, index).reverse()
}

export interface CategoryOption {
  value: string
  label: string
  children?: CategoryOption[]
}

/** Active categories as a two-level tree (class → category) in the language shown, in the server's order. */
export function categoryOptions(categories: readonly Category[], locale: string): CategoryOption[] {
  const name = (c: Category): string => (locale === 'en' ? c.name_en : c.name_zh)
  const active = categories.filter((c) => c.active)
  return active
    .filter((c) => c.depth === 1)
    .map((top) => ({
      value: top.code,
      label: name(top),
      children: active.filter((c) => c.parent_code === top.code).map((c) => ({ value: c.code, label: name(c) })),
    }))
}

export interface CaseFilters {
  status: string | null
  openOnly: boolean
  /** a category (4 digits) or a whole class (2 digits) */
  category: string | null
  priority: string | null
  level: string | null
  card: string | null
  area: { level: AreaLevel; code: string } | null
  overdue: boolean
  /** reported between these Shanghai dates, both included (YYYY-MM-DD) */
  range: [string, string] | null
  text: string
}

export function emptyFilters(): CaseFilters {
  return { status: null, openOnly: false, category: null, priority: null, level: null, card: null, area: null, overdue: false, range: null, text: '' }
}

/** The day after a YYYY-MM-DD date. */
export function nextDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10)
}

/** `GET /cases` parameters for the filters, a page and a sort (`reported_at`, `-handle_due`, …). */
export function caseQuery(f: CaseFilters, page: number, pageSize: number, sort: string | null): CaseQuery {
  const q: CaseQuery = { page, page_size: pageSize }
  if (f.status) q.status = f.status
  if (f.openOnly) q.open_only = true
  if (f.category) q.category_code = f.category
  if (f.priority) q.priority = f.priority
  if (f.level) q.level = f.level
  if (f.card) q.card = f.card
  if (f.area) q[`${f.area.level}_code`] = f.area.code
  if (f.overdue) q.overdue = true
  if (f.range) {
    q.since = `${f.range[0]}T00:00:00+08:00`
    q.until = `${nextDay(f.range[1])}T00:00:00+08:00`
  }
  if (f.text.trim()) q.q = f.text.trim()
  if (sort) q.sort = sort
  return q
}

export const SORTABLE = ['reported_at', 'handle_due', 'accept_due', 'priority', 'status'] as const

/** ElTable's sort-change (`prop`, `ascending`/`descending`/null) as the API's `sort`. */
export function sortParam(prop: string | null | undefined, order: string | null | undefined): string | null {
  if (!prop || !order || !(SORTABLE as readonly string[]).includes(prop)) return null
  return order === 'descending' ? `-${prop}` : prop
}

export interface Candidate {
  id: number
  code: string
  title: string
  status: string
  distance_m: number
  reported_at: string
  followers: number
}

/** The open cases a 409 `possible_duplicate` names, or null for any other error. */
export function duplicateCandidates(error: unknown): Candidate[] | null {
  if (!(error instanceof ApiError) || error.code !== 'possible_duplicate') return null
  const details = error.details as { candidates?: unknown } | null
  return Array.isArray(details?.candidates) ? (details.candidates as Candidate[]) : []
}

/** A 409 after which the page must reload the case: it changed meanwhile, or the action is no longer open. */
export function needsReload(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409 && (error.code === 'stale_version' || error.code === 'action_not_allowed')
}

/** Actions whose note the server requires (the transition table's `note_required`). */
export const NOTE_REQUIRED: ReadonlySet<string> = new Set([
  'reject',
  'send_back',
  'co_report',
  'handle',
  'return',
  'escalate',
  'reopen',
  'supervise',
  'request_extension',
  'comment',
])

/** Forward steps get the primary button; refusals and send-backs a warning one. */
export function actionButtonType(action: string): 'primary' | 'warning' | 'danger' | 'default' {
  if (['accept', 'start', 'dispatch', 'sign', 'handle', 'pass', 'start_verification'].includes(action)) return 'primary'
  if (['reject', 'return', 'send_back'].includes(action)) return 'danger'
  if (['escalate', 'supervise'].includes(action)) return 'warning'
  return 'default'
}

export interface ActionForm {
  note: string
  lead_unit_id: number | null
  co_unit_ids: number[]
  level: string | null
  colour: 'yellow' | 'red'
  days: number | null
  grant: boolean | null
  satisfaction: number
}

export function emptyActionForm(): ActionForm {
  return { note: '', lead_unit_id: null, co_unit_ids: [], level: null, colour: 'yellow', days: null, grant: null, satisfaction: 0 }
}

/** What is missing before sending (i18n keys by field), checked in the browser for early feedback only. */
export function actionProblems(action: string, form: ActionForm): Record<string, string> {
  const problems: Record<string, string> = {}
  if (NOTE_REQUIRED.has(action) && !form.note.trim()) problems.note = 'cases.action.noteRequired'
  if (action === 'dispatch' && form.lead_unit_id === null) problems.lead_unit_id = 'cases.action.leadRequired'
  if (action === 'hand_down' && !form.level) problems.level = 'cases.action.levelRequired'
  if (action === 'request_extension' && !(form.days !== null && form.days > 0 && form.days <= 30)) problems.days = 'cases.action.daysRange'
  if (action === 'decide_extension' && form.grant === null) problems.grant = 'cases.action.grantRequired'
  if (action === 'rate' && !(form.satisfaction >= 1 && form.satisfaction <= 5)) problems.satisfaction = 'cases.action.starsRequired'
  return problems
}

/** The body of `POST /cases/{id}/actions`: the action's own fields, the version it was decided on, a replay key. */
export function actionBody(
  action: ActionName,
  form: ActionForm,
  version: number,
  idempotencyKey: string,
  extension: Extension | null = null,
): ActionBody {
  const body: ActionBody = { action, expected_version: version, idempotency_key: idempotencyKey }
  const note = form.note.trim()
  if (note) body.note = note
  if (action === 'dispatch') {
    body.lead_unit_id = form.lead_unit_id
    body.co_unit_ids = form.co_unit_ids.filter((id) => id !== form.lead_unit_id)
  }
  if (action === 'hand_down') body.level = form.level as ActionBody['level']
  if (action === 'supervise') body.colour = form.colour
  if (action === 'request_extension') body.days = form.days
  if (action === 'decide_extension') {
    body.extension_id = extension?.id ?? null
    body.grant = form.grant
  }
  if (action === 'rate') body.satisfaction = form.satisfaction
  return body
}

/** A fresh key for `client_id` / `idempotency_key` (random, also outside secure contexts). */
export function newKey(): string {
  const bytes = new Uint8Array(16)
  globalThis.crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** What a small map shows around a point: the divisions of one level under a parent, one of them stronger. */
export interface MapContext {
  level: AreaLevel
  parentCode: string | null
  highlight?: string | null
}

/** The divisions just below the user's scope (a grid worker: the own grid among its community's). */
export function scopeContext(level: string, code: string): MapContext {
  if (level === 'city') return { level: 'district', parentCode: null }
  if (level === 'district') return { level: 'street', parentCode: code }
  if (level === 'street') return { level: 'community', parentCode: code }
  if (level === 'community') return { level: 'grid', parentCode: code }
  return { level: 'grid', parentCode: code.slice(0, 12), highlight: code }
}

/** The extension request still waiting for a decision (one at a time). */
export function pendingExtension(extensions: readonly Extension[]): Extension | null {
  return extensions.find((e) => e.status === 'pending') ?? null
}
