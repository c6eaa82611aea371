/** Shapes of the cases API used by the desktop case pages, derived from the generated paths (never hand-written). */
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
type Query<Op> = Op extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never

export type CasePage = Ok<paths['/api/v1/cases']['get']>
export type CaseRow = CasePage['items'][number]
export type CaseQuery = Query<paths['/api/v1/cases']['get']>
export type CaseDetail = Ok<paths['/api/v1/cases/{case_id}']['get']>
export type TimelineEntry = CaseDetail['timeline'][number]
export type Assignment = CaseDetail['assignments'][number]
export type Attachment = CaseDetail['attachments'][number]
export type Extension = CaseDetail['extensions'][number]
export type Category = Ok<paths['/api/v1/cases/categories']['get']>[number]
export type ReportBody = Body<paths['/api/v1/cases']['post']>
export type ReportOut = Ok<paths['/api/v1/cases']['post']>
export type ActionBody = Body<paths['/api/v1/cases/{case_id}/actions']['post']>
export type ActionName = ActionBody['action']
export type DispatchOption = Ok<paths['/api/v1/cases/{case_id}/dispatch-options']['get']>[number]
export type Board = Ok<paths['/api/v1/cases/supervision/board']['get']>
