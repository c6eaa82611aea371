/** The resident page's server calls (`/api/v1/public/cases…`): no account needed. */
import { api, unwrap } from '@/api/client'
import type { paths } from '@/api/schema'
import type { Photo } from '@/modules/mobile/cases/types'

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never
type Ok<Op> = Op extends { responses: infer Rs } ? (Rs extends { 200: infer R } ? Json<R> : Rs extends { 201: infer R } ? Json<R> : never) : never
type Body<Op> = Op extends { requestBody?: infer B } ? Json<NonNullable<B>> : never

/** A point marked on the map. */
export interface Pin {
  lon: number
  lat: number
}

export type PublicCase = Ok<paths['/api/v1/public/cases/track/{token}']['get']>
export type PublicReportBody = Body<paths['/api/v1/public/cases']['post']>
export type PublicReportOut = Ok<paths['/api/v1/public/cases']['post']>
type PublicUploadOut = Ok<paths['/api/v1/public/cases/attachments']['post']>

/** Upload the photos one by one: the first answers an upload token that the next ones and the report carry. */
export async function uploadPhotos(photos: readonly Photo[]): Promise<{ ids: number[]; uploadToken: string | null }> {
  const ids: number[] = []
  let uploadToken: string | null = null
  for (const photo of photos) {
    const token = uploadToken
    const form = new FormData()
    form.append('file', photo.blob, photo.name)
    const answer: PublicUploadOut = await unwrap(
      api.POST('/api/v1/public/cases/attachments', {
        params: { header: token ? { 'X-Upload-Token': token } : {} },
        body: form as never,
        bodySerializer: (body: unknown) => body as FormData,
      }),
    )
    ids.push(answer.id)
    uploadToken = answer.upload_token
  }
  return { ids, uploadToken }
}

export function reportCase(body: PublicReportBody): Promise<PublicReportOut> {
  return unwrap(api.POST('/api/v1/public/cases', { body }))
}

export function followCase(caseId: number): Promise<PublicReportOut> {
  return unwrap(api.POST('/api/v1/public/cases/{case_id}/follow', { params: { path: { case_id: caseId } } }))
}

export function track(token: string): Promise<PublicCase> {
  return unwrap(api.GET('/api/v1/public/cases/track/{token}', { params: { path: { token } } }))
}

export function rate(token: string, satisfaction: number, comment: string): Promise<PublicCase> {
  return unwrap(
    api.POST('/api/v1/public/cases/track/{token}/rate', {
      params: { path: { token } },
      body: { satisfaction, ...(comment.trim() ? { comment: comment.trim() } : {}) },
    }),
  )
}

export function photoUrl(token: string, attachmentId: number, thumbnail = false): string {
  return `/api/v1/public/cases/track/${encodeURIComponent(token)}/attachments/${attachmentId}${thumbnail ? '?thumbnail=true' : ''}`
}
