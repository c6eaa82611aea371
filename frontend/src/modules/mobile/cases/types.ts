/** Shapes of the cases API used by the field app and the resident page, derived from the generated paths. */
import type { paths } from '@/api/schema'

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never
type Ok<Op> = Op extends { responses: infer Rs }
  ? Rs extends { 200: infer R }
    ? Json<R>
    : Rs extends { 201: infer R }
      ? Json<R>
      : never
  : never
type Body<Op> = Op extends { requestBody?: infer B } ? Json<NonNullable<B>> : never

export type CasePage = Ok<paths['/api/v1/cases']['get']>
export type CaseRow = CasePage['items'][number]
export type CaseDetail = Ok<paths['/api/v1/cases/{case_id}']['get']>
export type TimelineEntry = CaseDetail['timeline'][number]
export type Attachment = CaseDetail['attachments'][number]
export type Category = Ok<paths['/api/v1/cases/categories']['get']>[number]
export type CaseReportBody = Body<paths['/api/v1/cases']['post']>
export type ReportOut = Ok<paths['/api/v1/cases']['post']>
export type ActionBody = Body<paths['/api/v1/cases/{case_id}/actions']['post']>
export type ActionOut = Ok<paths['/api/v1/cases/{case_id}/actions']['post']>
export type ActionName = ActionBody['action']

/** The actions a grid worker takes in the field, in the order the case page shows them. */
export const FIELD_ACTIONS = ['accept', 'start', 'handle', 'start_verification', 'pass', 'return', 'escalate', 'comment'] as const
export type FieldAction = (typeof FIELD_ACTIONS)[number]

/** Actions that need a note (the transition table's `note_required`). */
export const NOTE_ACTIONS: ReadonlySet<string> = new Set(['handle', 'return', 'escalate', 'comment', 'reject'])
/** Actions whose note may come with photos (before/after pictures of the work). */
export const PHOTO_ACTIONS: ReadonlySet<string> = new Set(['handle', 'return', 'comment'])

/** A photo waiting to be sent (the offline queue keeps the Blob). */
export interface Photo {
  blob: Blob
  name: string
}

/** One step of a case's timeline as the timeline component shows it (field and public views). */
export interface TimelineRow {
  key: string | number
  action: string
  to_status: string
  created_at: string
  actor?: string | null
  note: string | null
  photos?: { url: string; full: string }[]
}
