/** The cases API as the desktop pages call it (the generated client; photos fetched with the token as blobs). */
import { api, unwrap } from '@/api/client'
import type { ActionBody, Board, CaseDetail, CasePage, CaseQuery, Category, DispatchOption, ReportBody, ReportOut } from './types'

export function listCases(query: CaseQuery): Promise<CasePage> {
  return unwrap(api.GET('/api/v1/cases', { params: { query } }))
}

export function getCase(id: number): Promise<CaseDetail> {
  return unwrap(api.GET('/api/v1/cases/{case_id}', { params: { path: { case_id: id } } }))
}

export async function act(id: number, body: ActionBody): Promise<CaseDetail> {
  const out = await unwrap(api.POST('/api/v1/cases/{case_id}/actions', { params: { path: { case_id: id } }, body }))
  return out.case
}

export function reportCase(body: ReportBody): Promise<ReportOut> {
  return unwrap(api.POST('/api/v1/cases', { body }))
}

export function followCase(id: number): Promise<ReportOut> {
  return unwrap(api.POST('/api/v1/cases/{case_id}/follow', { params: { path: { case_id: id } } }))
}

export function dispatchOptions(id: number): Promise<DispatchOption[]> {
  return unwrap(api.GET('/api/v1/cases/{case_id}/dispatch-options', { params: { path: { case_id: id } } }))
}

export function supervisionBoard(page: number, pageSize: number): Promise<Board> {
  return unwrap(api.GET('/api/v1/cases/supervision/board', { params: { query: { page, page_size: pageSize } } }))
}

let categories: Promise<Category[]> | null = null

/** The category table, fetched once per page load (a failure is not kept, so the next call tries again). */
export function loadCategories(): Promise<Category[]> {
  categories ??= unwrap(api.GET('/api/v1/cases/categories')).catch((error: unknown) => {
    categories = null
    throw error
  })
  return categories
}

/** A case photo (or its thumbnail) as an object URL; the caller revokes it. */
export async function photoUrl(caseId: number, attachmentId: number, thumbnail: boolean): Promise<string> {
  const blob = await unwrap(
    api.GET('/api/v1/cases/{case_id}/attachments/{attachment_id}', {
      params: { path: { case_id: caseId, attachment_id: attachmentId }, query: { thumbnail } },
      parseAs: 'blob',
    }),
  )
  return URL.createObjectURL(blob as Blob)
}
