import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { LiveConnection, type EventSourceLike, type LiveOptions } from '@/lib/live'

class FakeEventSource implements EventSourceLike {
  static opened: FakeEventSource[] = []
  onmessage: ((event: MessageEvent<string>) => void) | null = null
  onerror: ((event: Event) => void) | null = null
  closed = false

  constructor(readonly url: string) {
    FakeEventSource.opened.push(this)
  }

  close(): void {
    this.closed = true
  }

  send(topic: string, payload: Record<string, unknown> = {}): void {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify({ topic, payload }) }))
  }

  fail(): void {
    this.onerror?.(new Event('error'))
  }

  static last(): FakeEventSource {
    const source = FakeEventSource.opened.at(-1)
    if (!source) throw new Error('no EventSource was opened')
    return source
  }
}

let tickets = 0

function connection(overrides: Partial<LiveOptions> = {}): LiveConnection {
  return new LiveConnection({
    ticketUrl: async () => `/api/v1/stream?ticket=t${++tickets}`,
    open: (url) => new FakeEventSource(url),
    random: () => 1, // no jitter: delays are exactly 1 s, 2 s, 4 s …
    ...overrides,
  })
}

/** Let the ticket promise settle. */
const settle = () => vi.advanceTimersByTimeAsync(0)

beforeEach(() => {
  vi.useFakeTimers()
  FakeEventSource.opened = []
  tickets = 0
})

afterEach(() => {
  vi.useRealTimers()
})

describe('LiveConnection', () => {
  it('opens with the first listener and delivers events by topic', async () => {
    const live = connection()
    const seen: unknown[] = []
    expect(live.state).toBe('idle')
    live.on('notification', (payload) => seen.push(payload))
    await settle()
    const source = FakeEventSource.last()
    expect(source.url).toBe('/api/v1/stream?ticket=t1')
    source.send('ready', { user_id: 7 })
    expect(live.state).toBe('open')
    source.send('notification', { kind: 'assignment', object_id: '1' })
    source.send('case.updated', { case_id: 1 })
    source.onmessage?.(new MessageEvent('message', { data: 'not json' }))
    expect(seen).toEqual([{ kind: 'assignment', object_id: '1' }])
  })

  it('reconnects after an error with a new ticket and a doubling backoff', async () => {
    const live = connection()
    live.on('notification', () => {})
    await settle()
    FakeEventSource.last().fail()
    expect(FakeEventSource.opened[0]!.closed).toBe(true) // the spent ticket's URL is not retried by the browser
    expect(live.state).toBe('waiting')

    await vi.advanceTimersByTimeAsync(999)
    expect(FakeEventSource.opened).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(FakeEventSource.opened).toHaveLength(2)
    expect(FakeEventSource.last().url).toBe('/api/v1/stream?ticket=t2')

    FakeEventSource.last().fail()
    await vi.advanceTimersByTimeAsync(1999)
    expect(FakeEventSource.opened).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(FakeEventSource.opened).toHaveLength(3)

    // Once a stream is ready the backoff starts over.
    FakeEventSource.last().send('ready')
    FakeEventSource.last().fail()
    await vi.advanceTimersByTimeAsync(1000)
    expect(FakeEventSource.opened).toHaveLength(4)
  })

  it('caps the backoff and spreads reconnects with jitter', () => {
    const live = connection({ random: () => 0 })
    expect(live.delay(0)).toBe(500)
    expect(live.delay(3)).toBe(4000)
    expect(live.delay(50)).toBe(15_000)
    expect(connection().delay(50)).toBe(30_000)
  })

  it('retries when the ticket cannot be fetched, and stops when nobody is signed in', async () => {
    let answer: () => Promise<string | null> = async () => {
      throw new Error('network down')
    }
    const live = connection({ ticketUrl: () => answer() })
    live.on('notification', () => {})
    await settle()
    expect(live.state).toBe('waiting')
    expect(FakeEventSource.opened).toHaveLength(0)

    answer = async () => null // the session ended
    await vi.advanceTimersByTimeAsync(1000)
    expect(live.state).toBe('idle')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(FakeEventSource.opened).toHaveLength(0)
  })

  it('tells resync listeners after a reconnect, and passes on the server resync', async () => {
    const live = connection()
    const resyncs: unknown[] = []
    live.on('resync', (payload) => resyncs.push(payload))
    await settle()
    FakeEventSource.last().send('ready')
    expect(resyncs).toEqual([]) // the first connection has nothing to catch up on
    FakeEventSource.last().send('resync', { dropped: 3 })
    FakeEventSource.last().fail()
    await vi.advanceTimersByTimeAsync(1000)
    FakeEventSource.last().send('ready')
    expect(resyncs).toEqual([{ dropped: 3 }, { reason: 'reconnected' }])
  })

  it('closes with the last listener and ignores a stale source', async () => {
    const live = connection()
    const off1 = live.on('notification', () => {})
    const off2 = live.on('notification.read', () => {})
    await settle()
    const source = FakeEventSource.last()
    off1()
    off1() // twice is harmless
    expect(source.closed).toBe(false)
    off2()
    expect(source.closed).toBe(true)
    expect(live.state).toBe('idle')
    source.fail() // a late error of the closed source schedules nothing
    await vi.advanceTimersByTimeAsync(60_000)
    expect(FakeEventSource.opened).toHaveLength(1)
  })

  it('drops a ticket that arrives after the connection stopped', async () => {
    let release: (url: string) => void = () => {}
    const live = connection({ ticketUrl: () => new Promise<string>((resolve) => (release = resolve)) })
    const off = live.on('notification', () => {})
    off()
    release('/api/v1/stream?ticket=late')
    await settle()
    expect(FakeEventSource.opened).toHaveLength(0)
  })

  it('keeps delivering when one handler throws', async () => {
    const live = connection()
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const seen: string[] = []
    live.on('notification', () => {
      throw new Error('broken component')
    })
    live.on('notification', (_payload, topic) => seen.push(topic))
    await settle()
    FakeEventSource.last().send('notification')
    expect(seen).toEqual(['notification'])
    expect(error).toHaveBeenCalled()
    error.mockRestore()
  })
})
