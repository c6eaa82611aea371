/**
 * The page's live update connection and `useLive(topic, handler)` for components.
 *
 * One connection per page (lib/live.ts), opened by the first component that listens and closed with the
 * last; tickets come from the API client, so an expired access token is refreshed first. When the session
 * is over (401/403) the connection stops until a component listens again after the next login.
 */
import { getCurrentInstance, onBeforeUnmount } from 'vue'
import { ApiError, api, unwrap } from '@/api/client'
import { LiveConnection, type LiveHandler } from '@/lib/live'

async function ticketUrl(): Promise<string | null> {
  try {
    const ticket = await unwrap(api.POST('/api/v1/stream/ticket'))
    return ticket.url
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return null
    throw error
  }
}

export const live = new LiveConnection({ ticketUrl })

/** Call `handler` for every live event of `topic` while the calling component is mounted. */
export function useLive(topic: string, handler: LiveHandler): () => void {
  const off = live.on(topic, handler)
  if (getCurrentInstance()) onBeforeUnmount(off)
  return off
}
