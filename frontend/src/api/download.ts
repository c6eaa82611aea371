/**
 * Files from the API (exports, error reports): fetched through the typed client with `parseAs: 'blob'`, so
 * the request carries the bearer token (and is refreshed and retried on a 401 like any other call), then
 * offered to the user as a download.
 */
import { filenameFrom, saveBlob } from '@/lib/download'
import { networkError, parseApiError } from './errors'

type BlobResult = { data?: Blob; error?: unknown; response: Response }

export interface Downloaded {
  name: string
  bytes: number
  /** `X-Total-Count` when the server sends it (rows in an export) */
  rows: number | null
}

/** Await a blob call, save the file under the server's name (or `fallback`), or throw an ApiError. */
export async function downloadFile(call: Promise<BlobResult>, fallback: string): Promise<Downloaded> {
  let result: BlobResult
  try {
    result = await call
  } catch (cause) {
    throw networkError(cause)
  }
  const { data, error, response } = result
  if (!response.ok || !data) throw parseApiError(response.status, error, response.statusText)
  const name = filenameFrom(response.headers.get('Content-Disposition'), fallback)
  saveBlob(data, name)
  const total = Number(response.headers.get('X-Total-Count'))
  return { name, bytes: data.size, rows: response.headers.has('X-Total-Count') && Number.isFinite(total) ? total : null }
}
