/**
 * The field app's outbox: reports and case actions kept in IndexedDB until the server has them.
 *
 * - Every item carries its own idempotency key (a report's `client_id`, an action's `idempotency_key`),
 *   so replaying something the server already applied is harmless: the API answers the first result.
 * - An action carries the case `expected_version` it was decided on; a 409 (`stale_version`,
 *   `action_not_allowed`, `possible_duplicate`, …) makes it a conflict, kept with the server's
 *   explanation until the worker discards it or sends it again.
 * - Photos are kept as Blobs; a replay uploads those not uploaded yet (remembering each attachment id at
 *   once, so a retry never uploads twice), then posts the report or the action with the ids.
 * - A network failure (or a 5xx, or an expired session) stops the replay; the rest waits, in order, for
 *   the next `sync()` (on `online`, on app start, or "sync now").
 *
 * The same database keeps the last answers of the pages (`cachePut`/`cacheGet`), shown when offline.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'
import { ApiError } from '@/api/errors'

export type ItemKind = 'report' | 'action' | 'follow'
export type ItemState = 'pending' | 'conflict' | 'failed'

export interface QueuedPhoto {
  blob: Blob
  name: string
  /** set once uploaded */
  attachmentId: number | null
}

export interface DuplicateCandidate {
  id: number
  code: string
  title: string
  status: string
  distance_m: number
  reported_at: string
  followers: number
}

/** The server's explanation of why an item could not be applied. */
export interface Problem {
  status: number
  code: string
  message: string
  /** the case's status now, when the server said */
  caseStatus: string | null
  allowedActions: string[]
  candidates: DuplicateCandidate[]
  /** for a stale version: what happened meanwhile, and who did it */
  lastAction: string | null
  lastActor: string | null
}

export interface QueueItem {
  id: number
  kind: ItemKind
  /** `client_id` of a report, `idempotency_key` of an action */
  key: string
  caseId: number | null
  /** what the worker sees in the list, e.g. "accept · SJ2026…" */
  label: string
  /** the request body, without `attachment_ids` (filled from the photos on replay) */
  body: Record<string, unknown>
  photos: QueuedPhoto[]
  state: ItemState
  attempts: number
  createdAt: string
  lastError: string | null
  problem: Problem | null
}

export type NewItem = Pick<QueueItem, 'kind' | 'caseId' | 'label' | 'body'> & {
  key?: string
  photos?: { blob: Blob; name: string }[]
}

/** What the server answered for an applied item. */
export interface Applied {
  item: QueueItem
  caseId: number
  code: string
  replayed: boolean
  response: unknown
}

export interface SyncResult {
  applied: Applied[]
  conflicts: QueueItem[]
  failed: QueueItem[]
  /** true when the replay stopped on a network failure; the rest is still queued */
  interrupted: boolean
  error: string | null
}

/** How the queue talks to the server; `apiTransport` (fieldTransport.ts) is the real one. */
export interface Transport {
  upload(photo: Blob, name: string): Promise<number>
  report(body: Record<string, unknown>): Promise<{ id: number; code: string; created: boolean; followed: boolean }>
  act(caseId: number, body: Record<string, unknown>): Promise<{ case: { id: number; code: string }; replayed: boolean }>
  follow(caseId: number): Promise<{ id: number; code: string }>
}

interface FieldDb extends DBSchema {
  queue: { key: number; value: QueueItem }
  cache: { key: string; value: { value: unknown; savedAt: string } }
}

export const DB_NAME = 'civicgrid-field'
const CONFLICT_CODES = new Set(['stale_version', 'action_not_allowed', 'possible_duplicate', 'conflict'])

export function newKey(): string {
  const c = globalThis.crypto
  if (c && typeof c.randomUUID === 'function') return c.randomUUID()
  const bytes = new Uint8Array(16)
  for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

/** The server's 409/4xx answer as a Problem the worker can read. */
export function problemOf(error: ApiError): Problem {
  const details = record(error.details)
  const allowed = details.allowed_actions
  const candidates = details.candidates
  return {
    status: error.status,
    code: error.code,
    message: error.message,
    caseStatus: typeof details.status === 'string' ? details.status : null,
    allowedActions: Array.isArray(allowed) ? allowed.filter((a): a is string => typeof a === 'string') : [],
    candidates: Array.isArray(candidates) ? (candidates as DuplicateCandidate[]) : [],
    lastAction: typeof details.last_action === 'string' ? details.last_action : null,
    lastActor: typeof details.last_actor === 'string' ? details.last_actor : null,
  }
}

/** Retry later (true) or give up on this item with the server's word (false). */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true
  return error.status === 0 || error.status === 401 || error.status === 408 || error.status === 429 || error.status >= 500
}

type Listener = () => void

export class OfflineQueue {
  private db: Promise<IDBPDatabase<FieldDb>> | null = null
  private running: Promise<SyncResult> | null = null
  private readonly listeners = new Set<Listener>()

  constructor(
    private readonly transport: Transport,
    private readonly name: string = DB_NAME,
  ) {}

  private open(): Promise<IDBPDatabase<FieldDb>> {
    this.db ??= openDB<FieldDb>(this.name, 1, {
      upgrade(db) {
        db.createObjectStore('queue', { keyPath: 'id', autoIncrement: true })
        db.createObjectStore('cache')
      },
    })
    return this.db
  }

  /** Called after every change of the queue (add, state change, removal). */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private changed(): void {
    for (const listener of this.listeners) listener()
  }

  async add(item: NewItem): Promise<QueueItem> {
    const db = await this.open()
    const stored: Omit<QueueItem, 'id'> = {
      kind: item.kind,
      key: item.key ?? newKey(),
      caseId: item.caseId,
      label: item.label,
      body: item.body,
      photos: (item.photos ?? []).map((p) => ({ blob: p.blob, name: p.name, attachmentId: null })),
      state: 'pending',
      attempts: 0,
      createdAt: new Date().toISOString(),
      lastError: null,
      problem: null,
    }
    const id = await db.add('queue', stored as QueueItem)
    this.changed()
    return { ...stored, id }
  }

  /** Everything queued, oldest first. */
  async list(): Promise<QueueItem[]> {
    return (await this.open()).getAll('queue')
  }

  async get(id: number): Promise<QueueItem | undefined> {
    return (await this.open()).get('queue', id)
  }

  async remove(id: number): Promise<void> {
    await (await this.open()).delete('queue', id)
    this.changed()
  }

  /** Change an item's body (e.g. `force_new` after a duplicate) and put it back in line. */
  async retry(id: number, bodyChanges: Record<string, unknown> = {}): Promise<void> {
    const db = await this.open()
    const item = await db.get('queue', id)
    if (!item) return
    await db.put('queue', { ...item, body: { ...item.body, ...bodyChanges }, state: 'pending', problem: null, lastError: null })
    this.changed()
  }

  private async save(item: QueueItem): Promise<void> {
    await (await this.open()).put('queue', item)
    this.changed()
  }

  /** Replay the pending items in order; one replay at a time (a second call joins the running one). */
  sync(): Promise<SyncResult> {
    this.running ??= this.replay().finally(() => {
      this.running = null
    })
    return this.running
  }

  get syncing(): boolean {
    return this.running !== null
  }

  private async replay(): Promise<SyncResult> {
    const result: SyncResult = { applied: [], conflicts: [], failed: [], interrupted: false, error: null }
    const tried = new Set<number>()
    for (;;) {
      // Read the queue again each time: items added while the replay runs go out in the same run.
      const item = (await this.list()).find((i) => i.state === 'pending' && !tried.has(i.id))
      if (!item) break
      tried.add(item.id)
      try {
        result.applied.push(await this.apply(item))
        await this.remove(item.id)
      } catch (error) {
        item.attempts += 1
        if (isTransient(error)) {
          item.lastError = error instanceof Error ? error.message : String(error)
          await this.save(item)
          result.interrupted = true
          result.error = item.lastError
          break
        }
        const problem = problemOf(error as ApiError)
        item.problem = problem
        item.lastError = problem.message
        item.state = problem.status === 409 && CONFLICT_CODES.has(problem.code) ? 'conflict' : 'failed'
        await this.save(item)
        ;(item.state === 'conflict' ? result.conflicts : result.failed).push(item)
      }
    }
    return result
  }

  private async apply(item: QueueItem): Promise<Applied> {
    for (const photo of item.photos) {
      if (photo.attachmentId !== null) continue
      photo.attachmentId = await this.transport.upload(photo.blob, photo.name)
      await this.save(item) // uploaded: a retry sends the id, not the photo again
    }
    const ids = item.photos.map((p) => p.attachmentId as number)
    if (item.kind === 'report') {
      const body = { ...item.body, client_id: item.key, ...(ids.length ? { attachment_ids: ids } : {}) }
      const answer = await this.transport.report(body)
      return { item, caseId: answer.id, code: answer.code, replayed: !answer.created && !answer.followed, response: answer }
    }
    if (item.caseId === null) throw new ApiError(422, 'invalid_input', 'the queued item names no case')
    if (item.kind === 'follow') {
      const answer = await this.transport.follow(item.caseId)
      return { item, caseId: answer.id, code: answer.code, replayed: false, response: answer }
    }
    const body = { ...item.body, idempotency_key: item.key, ...(ids.length ? { attachment_ids: ids } : {}) }
    const answer = await this.transport.act(item.caseId, body)
    return { item, caseId: answer.case.id, code: answer.case.code, replayed: answer.replayed, response: answer }
  }

  // -- the pages' last answers ---------------------------------------------------------------------------

  async cachePut(key: string, value: unknown): Promise<void> {
    // A plain copy: a page may hand over reactive proxies, which IndexedDB cannot clone.
    const plain: unknown = JSON.parse(JSON.stringify(value))
    await (await this.open()).put('cache', { value: plain, savedAt: new Date().toISOString() }, key)
  }

  async cacheGet<T>(key: string): Promise<{ value: T; savedAt: string } | undefined> {
    return (await (await this.open()).get('cache', key)) as { value: T; savedAt: string } | undefined
  }

  async close(): Promise<void> {
    if (this.db) (await this.db).close()
    this.db = null
  }
}
