/**
 * The live update stream: one EventSource per page, shared by every component that listens.
 *
 * EventSource cannot send the Authorization header, so each connection starts with a one-time ticket
 * (`POST /api/v1/stream/ticket`, valid 60 s) whose URL is opened. A ticket opens one stream only, so the
 * browser's own reconnect (same URL) would be refused: on any error the source is closed and a new
 * ticket fetched after a backoff (1 s, 2 s, 4 s … up to 30 s, with jitter), reset once the server says
 * `ready`. The server ends each stream after a while (and when it restarts); that is an ordinary
 * reconnect. Events may be lost while disconnected, so every reconnect after the first is announced to
 * `resync` listeners, as is the server's own `resync` (the connection fell behind): re-read what you show.
 *
 * Messages are `{"topic": …, "payload": {…}}`; `on(topic, handler)` returns its own unsubscribe. The
 * connection opens with the first listener and closes with the last.
 */

export type LivePayload = Record<string, unknown>
export type LiveHandler = (payload: LivePayload, topic: string) => void
export type LiveState = 'idle' | 'connecting' | 'open' | 'waiting'

/** The part of EventSource this uses (tests pass a fake). */
export interface EventSourceLike {
  onmessage: ((event: MessageEvent<string>) => void) | null
  onerror: ((event: Event) => void) | null
  close(): void
}

export interface LiveOptions {
  /** The stream URL with a fresh ticket, or null when nobody is signed in (then the connection stops). */
  ticketUrl: () => Promise<string | null>
  /** Opens a source; defaults to `new EventSource(url)`. */
  open?: (url: string) => EventSourceLike
  minDelayMs?: number
  maxDelayMs?: number
  /** 0 ≤ x < 1; defaults to Math.random (jitter, so many pages do not reconnect in step). */
  random?: () => number
}

export const RESYNC = 'resync'
const READY = 'ready'

export class LiveConnection {
  state: LiveState = 'idle'
  /** Consecutive failed attempts (0 once a stream is ready). */
  failures = 0

  private readonly handlers = new Map<string, Set<LiveHandler>>()
  private readonly options: Required<LiveOptions>
  private source: EventSourceLike | null = null
  private timer: ReturnType<typeof setTimeout> | null = null
  private generation = 0
  private everReady = false

  constructor(options: LiveOptions) {
    this.options = {
      open: (url) => new EventSource(url) as EventSourceLike,
      minDelayMs: 1000,
      maxDelayMs: 30_000,
      random: Math.random,
      ...options,
    }
  }

  /** Call `handler` for every event of `topic`; the returned function stops it. */
  on(topic: string, handler: LiveHandler): () => void {
    let set = this.handlers.get(topic)
    if (!set) {
      set = new Set()
      this.handlers.set(topic, set)
    }
    set.add(handler)
    if (this.state === 'idle') this.start()
    let active = true
    return () => {
      if (!active) return
      active = false
      set.delete(handler)
      if (set.size === 0) this.handlers.delete(topic)
      if (this.handlers.size === 0) this.stop()
    }
  }

  /** How many handlers listen (all topics). */
  get listeners(): number {
    let count = 0
    for (const set of this.handlers.values()) count += set.size
    return count
  }

  start(): void {
    if (this.state !== 'idle') return
    void this.connect()
  }

  /** Close the stream and forget pending attempts (listeners stay registered). */
  stop(): void {
    this.generation += 1
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.source?.close()
    this.source = null
    this.state = 'idle'
    this.failures = 0
    this.everReady = false
  }

  /** The wait before attempt number `failures` (0-based): doubling from min to max, times 0.5–1 jitter. */
  delay(failures: number): number {
    const { minDelayMs, maxDelayMs, random } = this.options
    const base = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(failures, 20))
    return Math.round(base * (0.5 + 0.5 * random()))
  }

  private async connect(): Promise<void> {
    const generation = this.generation
    this.state = 'connecting'
    let url: string | null
    try {
      url = await this.options.ticketUrl()
    } catch {
      if (generation === this.generation) this.retry()
      return
    }
    if (generation !== this.generation) return
    if (url === null) {
      this.stop()
      return
    }
    const source = this.options.open(url)
    this.source = source
    source.onmessage = (event) => {
      if (this.source === source) this.receive(event.data)
    }
    source.onerror = () => {
      if (this.source !== source) return
      source.close()
      this.source = null
      this.retry()
    }
  }

  private retry(): void {
    this.state = 'waiting'
    const wait = this.delay(this.failures)
    this.failures += 1
    this.timer = setTimeout(() => {
      this.timer = null
      void this.connect()
    }, wait)
  }

  private receive(data: string): void {
    let message: unknown
    try {
      message = JSON.parse(data)
    } catch {
      return
    }
    if (typeof message !== 'object' || message === null) return
    const { topic, payload } = message as { topic?: unknown; payload?: unknown }
    if (typeof topic !== 'string') return
    const body = typeof payload === 'object' && payload !== null ? (payload as LivePayload) : {}
    if (topic === READY) {
      this.state = 'open'
      this.failures = 0
      if (this.everReady) this.emit(RESYNC, { reason: 'reconnected' })
      this.everReady = true
    }
    this.emit(topic, body)
  }

  private emit(topic: string, payload: LivePayload): void {
    for (const handler of [...(this.handlers.get(topic) ?? [])]) {
      try {
        handler(payload, topic)
      } catch (error) {
        console.error(`live handler for ${topic} failed`, error)
      }
    }
  }
}
