// @vitest-environment node
// (Node's own Blob, FormData and structuredClone: IndexedDB must keep the photos as real Blobs.)
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApiClient } from '@/api/client'
import { OfflineQueue, type NewItem } from '@/lib/offlineQueue'
import { apiTransport } from '@/modules/mobile/cases/fieldApi'

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

/** A tiny cases server: idempotent reports and actions, versions, attachments; can drop the network. */
class FakeServer {
  calls: string[] = []
  offline = false
  /** answer 503 to everything */
  down = false
  /** apply the next request, then lose its answer (the phone sees a network error) */
  loseNextAnswer = false
  uploads: { name: string; type: string; size: number }[] = []
  cases = new Map<number, { id: number; code: string; status: string; version: number; attachment_ids: number[] }>()
  reports = new Map<string, number>()
  actions = new Map<string, { caseId: number; action: string }>()
  applied: { caseId: number; action: string; attachment_ids: number[] }[] = []
  duplicateOf: number | null = null
  private nextId = 1

  constructor() {
    this.cases.set(7, { id: 7, code: 'SJ7', status: 'accepted', version: 3, attachment_ids: [] })
    this.cases.set(8, { id: 8, code: 'SJ8', status: 'handled', version: 5, attachment_ids: [] })
  }

  fetch = async (request: Request): Promise<Response> => {
    if (this.offline) throw new TypeError('Failed to fetch')
    if (this.down) return json(503, { error: { code: 'server_error', message: 'down', details: null } })
    const path = new URL(request.url).pathname
    this.calls.push(`${request.method} ${path}`)
    const answer = await this.route(request, path)
    if (this.loseNextAnswer) {
      this.loseNextAnswer = false
      throw new TypeError('network connection was lost')
    }
    return answer
  }

  private async route(request: Request, path: string): Promise<Response> {
    if (path === '/api/v1/cases/attachments') {
      const form = await request.formData()
      const file = form.get('file') as File
      this.uploads.push({ name: file.name, type: file.type, size: file.size })
      return json(201, { id: 100 + this.uploads.length })
    }
    if (path === '/api/v1/cases') {
      const body = (await request.json()) as Record<string, unknown>
      const earlier = this.reports.get(body.client_id as string)
      if (earlier !== undefined) return json(201, { id: earlier, code: `SJ${earlier}`, created: false, followed: false, token: null, case: null })
      if (this.duplicateOf !== null && !body.force_new) {
        return json(409, {
          error: {
            code: 'possible_duplicate',
            message: '1 open report(s) of the same problem lie within 50 m',
            details: { candidates: [{ id: this.duplicateOf, code: `SJ${this.duplicateOf}`, title: 'pothole', status: 'accepted', distance_m: 12, reported_at: '2026-01-01T00:00:00Z', followers: 0 }] },
          },
        })
      }
      const id = this.nextId++
      this.cases.set(id, { id, code: `SJ${id}`, status: 'accepted', version: 1, attachment_ids: (body.attachment_ids as number[]) ?? [] })
      this.reports.set(body.client_id as string, id)
      return json(201, { id, code: `SJ${id}`, created: true, followed: false, token: null, case: null })
    }
    const act = /^\/api\/v1\/cases\/(\d+)\/actions$/.exec(path)
    if (act) {
      const caseId = Number(act[1])
      const body = (await request.json()) as Record<string, unknown>
      const found = this.cases.get(caseId)!
      const key = body.idempotency_key as string
      if (this.actions.has(key)) return json(200, { case: found, action_id: 1, replayed: true })
      if (body.expected_version !== found.version) {
        return json(409, {
          error: {
            code: 'stale_version',
            message: `the case changed since you loaded it (version ${String(body.expected_version)}, now ${found.version}): it is now ${found.status}`,
            details: { status: found.status, version: found.version, last_action: 'escalate', last_actor: 'gw1', allowed_actions: ['comment'] },
          },
        })
      }
      if (body.action === 'handle' && !body.note) {
        return json(422, { error: { code: 'invalid_input', message: "'handle' needs a note", details: [{ field: 'note', problem: 'required' }] } })
      }
      this.actions.set(key, { caseId, action: body.action as string })
      this.applied.push({ caseId, action: body.action as string, attachment_ids: (body.attachment_ids as number[]) ?? [] })
      found.version += 1
      return json(200, { case: found, action_id: this.applied.length, replayed: false })
    }
    const follow = /^\/api\/v1\/cases\/(\d+)\/follow$/.exec(path)
    if (follow) return json(200, { id: Number(follow[1]), code: `SJ${follow[1]}`, created: false, followed: true, token: null, case: null })
    return json(404, { error: { code: 'not_found', message: path, details: null } })
  }
}

let server: FakeServer
let queue: OfflineQueue

function makeQueue(): OfflineQueue {
  const client = createApiClient({ session: { accessToken: () => 'T', refresh: async () => false, onSessionExpired: () => {} }, fetch: server.fetch, baseUrl: 'http://test' })
  return new OfflineQueue(apiTransport(client), 'test-field')
}

const photo = (text: string) => ({ blob: new Blob([text], { type: 'image/jpeg' }), name: `${text}.jpg` })
const action = (caseId: number, name: string, version: number, extra: Partial<NewItem> = {}): NewItem => ({
  kind: 'action',
  caseId,
  label: name,
  body: { action: name, expected_version: version, ...(name === 'handle' ? { note: 'fixed' } : {}) },
  ...extra,
})
const report = (extra: Partial<NewItem> = {}): NewItem => ({
  kind: 'report',
  caseId: null,
  label: 'pothole',
  body: { category_code: '0501', lon: 117.47, lat: 32.93, description: 'pothole' },
  ...extra,
})

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory()
  server = new FakeServer()
  queue = makeQueue()
})

describe('offline queue', () => {
  it('replays in the order the items were queued and empties itself', async () => {
    await queue.add(action(7, 'start', 3))
    await queue.add(report())
    await queue.add(action(8, 'pass', 5))
    const result = await queue.sync()
    expect(server.calls).toEqual(['POST /api/v1/cases/7/actions', 'POST /api/v1/cases', 'POST /api/v1/cases/8/actions'])
    expect(result.applied.map((a) => a.code)).toEqual(['SJ7', 'SJ1', 'SJ8'])
    expect(result.interrupted).toBe(false)
    expect(await queue.list()).toEqual([])
  })

  it('keeps the items across a restart of the app (IndexedDB)', async () => {
    await queue.add(action(7, 'start', 3, { photos: [photo('a')] }))
    await queue.close()
    const again = makeQueue()
    const [item] = await again.list()
    expect(item?.label).toBe('start')
    expect(item?.photos[0]?.blob).toBeInstanceOf(Blob)
    expect(await item?.photos[0]?.blob.text()).toBe('a')
    await again.sync()
    expect(server.applied).toEqual([{ caseId: 7, action: 'start', attachment_ids: [101] }])
  })

  it('uploads the photos first, then posts with their ids', async () => {
    await queue.add(report({ photos: [photo('one'), photo('two')] }))
    await queue.sync()
    expect(server.calls).toEqual(['POST /api/v1/cases/attachments', 'POST /api/v1/cases/attachments', 'POST /api/v1/cases'])
    expect(server.uploads).toEqual([
      { name: 'one.jpg', type: 'image/jpeg', size: 3 },
      { name: 'two.jpg', type: 'image/jpeg', size: 3 },
    ])
    expect(server.cases.get(1)?.attachment_ids).toEqual([101, 102])
  })

  it('sends a report with its client_id and an action with its idempotency key', async () => {
    const r = await queue.add(report())
    const a = await queue.add(action(7, 'start', 3))
    await queue.sync()
    expect(server.reports.get(r.key)).toBe(1)
    expect(server.actions.get(a.key)).toEqual({ caseId: 7, action: 'start' })
  })

  it('stops on a network failure, keeps everything in order, and retries later', async () => {
    await queue.add(action(7, 'start', 3))
    await queue.add(action(8, 'pass', 5))
    server.offline = true
    const first = await queue.sync()
    expect(first.interrupted).toBe(true)
    expect(first.applied).toEqual([])
    const waiting = await queue.list()
    expect(waiting.map((i) => [i.label, i.state, i.attempts])).toEqual([
      ['start', 'pending', 1],
      ['pass', 'pending', 0],
    ])
    expect(waiting[0]?.lastError).toContain('Failed to fetch')
    server.offline = false
    const second = await queue.sync()
    expect(second.applied.map((a) => a.item.label)).toEqual(['start', 'pass'])
    expect(await queue.list()).toEqual([])
  })

  it('treats a 5xx as a reason to retry, not as a refusal', async () => {
    await queue.add(action(7, 'start', 3))
    server.down = true
    expect((await queue.sync()).interrupted).toBe(true)
    expect((await queue.list())[0]?.state).toBe('pending')
  })

  it('a replay of something the server applied already is harmless (its answer was lost)', async () => {
    await queue.add(action(7, 'start', 3))
    server.loseNextAnswer = true
    expect((await queue.sync()).interrupted).toBe(true)
    expect(server.applied).toHaveLength(1)
    const second = await queue.sync()
    expect(second.applied[0]?.replayed).toBe(true)
    expect(server.applied).toHaveLength(1) // applied once
    expect(await queue.list()).toEqual([])
  })

  it('a lost answer to a report does not create a second case', async () => {
    await queue.add(report())
    server.loseNextAnswer = true
    await queue.sync()
    const second = await queue.sync()
    expect(second.applied[0]?.replayed).toBe(true)
    expect(server.cases.size).toBe(3) // the two fixtures and one new case
  })

  it('uploads a photo once even when the post after it fails', async () => {
    await queue.add(action(7, 'handle', 3, { photos: [photo('after')] }))
    let posts = 0
    const original = server.fetch
    server.fetch = async (request) => {
      if (request.url.endsWith('/actions') && posts++ === 0) throw new TypeError('Failed to fetch')
      return original(request)
    }
    queue = makeQueue()
    await queue.sync()
    expect((await queue.list())[0]?.photos[0]?.attachmentId).toBe(101)
    await queue.sync()
    expect(server.uploads).toHaveLength(1)
    expect(server.applied).toEqual([{ caseId: 7, action: 'handle', attachment_ids: [101] }])
  })

  it('keeps a stale version as a conflict with the server explanation and goes on with the rest', async () => {
    await queue.add(action(7, 'start', 2)) // the case moved on to version 3 meanwhile
    await queue.add(action(8, 'pass', 5))
    const result = await queue.sync()
    expect(result.conflicts).toHaveLength(1)
    expect(result.applied.map((a) => a.item.label)).toEqual(['pass'])
    const [kept] = await queue.list()
    expect(kept?.state).toBe('conflict')
    expect(kept?.problem).toMatchObject({ status: 409, code: 'stale_version', caseStatus: 'accepted', allowedActions: ['comment'], lastAction: 'escalate', lastActor: 'gw1' })
    expect(kept?.problem?.message).toContain('changed since you loaded it')
    // A conflict is not replayed again by itself …
    await queue.sync()
    expect(server.calls.filter((c) => c.endsWith('/7/actions'))).toHaveLength(1)
    // … the worker discards it.
    await queue.remove(kept!.id)
    expect(await queue.list()).toEqual([])
  })

  it('keeps a refused input (422) as failed without stopping the others', async () => {
    await queue.add({ kind: 'action', caseId: 7, label: 'handle', body: { action: 'handle', expected_version: 3 } })
    await queue.add(action(8, 'pass', 5))
    const result = await queue.sync()
    expect(result.failed.map((i) => i.problem?.code)).toEqual(['invalid_input'])
    expect(result.applied.map((a) => a.item.label)).toEqual(['pass'])
  })

  it('offers the candidates of a possible duplicate; sent again with force_new it is reported', async () => {
    server.duplicateOf = 8
    const item = await queue.add(report())
    const result = await queue.sync()
    expect(result.conflicts[0]?.problem?.candidates.map((c) => c.code)).toEqual(['SJ8'])
    await queue.retry(item.id, { force_new: true })
    const again = await queue.sync()
    expect(again.applied.map((a) => a.code)).toEqual(['SJ1'])
  })

  it('follows a case (+1)', async () => {
    await queue.add({ kind: 'follow', caseId: 8, label: '+1', body: {} })
    const result = await queue.sync()
    expect(server.calls).toEqual(['POST /api/v1/cases/8/follow'])
    expect(result.applied[0]?.caseId).toBe(8)
  })

  it('runs one replay at a time and picks up items queued while it runs', async () => {
    await queue.add(action(7, 'start', 3))
    const one = queue.sync()
    const two = queue.sync()
    expect(one).toBe(two)
    await queue.add(action(8, 'pass', 5))
    const result = await one
    expect(result.applied.map((a) => a.item.label)).toEqual(['start', 'pass'])
    expect(server.applied).toHaveLength(2)
  })

  it('tells its listeners about every change', async () => {
    let changes = 0
    const stop = queue.subscribe(() => changes++)
    await queue.add(action(7, 'start', 3))
    expect(changes).toBe(1)
    await queue.sync()
    expect(changes).toBeGreaterThanOrEqual(2)
    stop()
    const before = changes
    await queue.add(action(8, 'pass', 5))
    expect(changes).toBe(before)
  })

  it('keeps the last answers of the pages', async () => {
    expect(await queue.cacheGet('inbox')).toBeUndefined()
    await queue.cachePut('inbox', { items: [{ id: 7 }] })
    const cached = await queue.cacheGet<{ items: { id: number }[] }>('inbox')
    expect(cached?.value.items[0]?.id).toBe(7)
    expect(Date.parse(cached!.savedAt)).not.toBeNaN()
  })
})
