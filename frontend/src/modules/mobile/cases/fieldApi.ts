/** The field app's server calls: the offline queue's transport over the typed API client. */
import { api, unwrap, type ApiClient } from '@/api/client'
import type { Transport } from '@/lib/offlineQueue'
import type { ActionBody, CaseReportBody } from './types'

/** `POST /api/v1/cases/attachments` (multipart `file`): a photo uploaded before the report or action. */
export async function uploadPhoto(client: ApiClient, photo: Blob, name: string): Promise<number> {
  const form = new FormData()
  form.append('file', photo, name)
  const answer = await unwrap(
    client.POST('/api/v1/cases/attachments', { body: form as never, bodySerializer: (body: unknown) => body as FormData }),
  )
  return answer.id
}

export function apiTransport(client: ApiClient = api): Transport {
  return {
    upload: (photo, name) => uploadPhoto(client, photo, name),
    report: (body) => unwrap(client.POST('/api/v1/cases', { body: body as unknown as CaseReportBody })),
    act: (caseId, body) =>
      unwrap(
        client.POST('/api/v1/cases/{case_id}/actions', {
          params: { path: { case_id: caseId } },
          body: body as unknown as ActionBody,
        }),
      ),
    follow: (caseId) => unwrap(client.POST('/api/v1/cases/{case_id}/follow', { params: { path: { case_id: caseId } } })),
  }
}
