/**
 * The field app's one offline queue, as reactive state for the pages: the queued items, whether the
 * phone is online, and a replay on start-up, whenever the network comes back, and on "sync now".
 */
import { computed, ref, shallowRef } from 'vue'
import { isApiError } from '@/api/client'
import { OfflineQueue, type Applied, type NewItem, type QueueItem, type SyncResult } from '@/lib/offlineQueue'
import { apiTransport } from './fieldApi'

const queue = new OfflineQueue(apiTransport())
const items = shallowRef<QueueItem[]>([])
const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine)
const syncing = ref(false)
const lastResult = shallowRef<SyncResult | null>(null)
let started = false
/** cache key of the ids of the cases reported from this phone ("reported by me") */
export const MINE_KEY = 'mine:ids'
const RETRY_MS = 60_000

async function reload(): Promise<void> {
  try {
    items.value = await queue.list()
  } catch {
    items.value = [] // IndexedDB unavailable (private mode): nothing can wait offline
  }
}

async function sync(): Promise<SyncResult | null> {
  if (!online.value) return null
  syncing.value = true
  try {
    const result = await queue.sync()
    const reported = result.applied.filter((a) => a.item.kind === 'report').map((a) => a.caseId)
    if (reported.length) {
      const known = (await recall<number[]>(MINE_KEY)) ?? []
      await remember(MINE_KEY, [...new Set([...known, ...reported])].slice(-500))
    }
    lastResult.value = result
    return result
  } catch {
    return null
  } finally {
    syncing.value = false
    await reload()
  }
}

function start(): void {
  if (started) return
  started = true
  queue.subscribe(() => void reload())
  window.addEventListener('online', () => {
    online.value = true
    void sync()
  })
  window.addEventListener('offline', () => {
    online.value = false
  })
  void reload().then(() => sync())
  // A server that was down (5xx) or a network that came back without an `online` event: try again now and then.
  setInterval(() => {
    if (online.value && !syncing.value && items.value.some((i) => i.state === 'pending')) void sync()
  }, RETRY_MS)
}

/** What became of one submitted item: applied now, or still in the queue (waiting, conflict, failed). */
export interface Submitted {
  applied: Applied | null
  item: QueueItem | null
}

/** Queue an item and, when online, send it at once (the same path as an offline replay). */
async function submit(entry: NewItem): Promise<Submitted> {
  const item = await queue.add(entry)
  await reload()
  const result = await sync()
  const applied = result?.applied.find((a) => a.item.id === item.id) ?? null
  return { applied, item: applied ? null : ((await queue.get(item.id)) ?? null) }
}

/**
 * Load a page's data: from the server when it answers (and remember the answer), else the last answer
 * kept on the phone (`savedAt` says from when). Errors other than a network failure are thrown.
 */
async function load<T>(key: string, loader: () => Promise<T>): Promise<{ value: T; savedAt: string | null }> {
  try {
    const value = await loader()
    void queue.cachePut(key, value).catch(() => undefined)
    return { value, savedAt: null }
  } catch (error) {
    if (isApiError(error) && error.status !== 0 && error.status < 500) throw error
    const cached = await queue.cacheGet<T>(key).catch(() => undefined)
    if (cached) return cached
    throw error
  }
}

async function remember<T>(key: string, value: T): Promise<void> {
  await queue.cachePut(key, value).catch(() => undefined)
}

async function recall<T>(key: string): Promise<T | undefined> {
  return (await queue.cacheGet<T>(key).catch(() => undefined))?.value
}

export function useFieldQueue() {
  start()
  const pending = computed(() => items.value.filter((i) => i.state === 'pending'))
  const problems = computed(() => items.value.filter((i) => i.state !== 'pending'))
  return {
    queue,
    items,
    pending,
    problems,
    online,
    syncing,
    lastResult,
    sync,
    submit,
    load,
    remember,
    recall,
    remove: async (id: number) => {
      await queue.remove(id)
      await reload()
    },
    retry: async (id: number, changes: Record<string, unknown> = {}) => {
      await queue.retry(id, changes)
      await reload()
      return sync()
    },
    /** queued items waiting for this case (its page takes no second action until they are sent) */
    waitingFor: (caseId: number) => items.value.filter((i) => i.caseId === caseId),
  }
}
