/**
 * "在岗共享位置": a grid worker shares the phone's position with the command centre while on duty, and only
 * then (DESIGN: never hidden tracking). The server keeps one point per worker and deletes it when sharing
 * stops or the duty period ends (command/positions.py).
 *
 * - switching on starts a duty period of 2, 4 or 8 hours (`PUT /command/positions/me` with `duty_minutes`);
 * - while on, the point is sent every 2 minutes and when the page becomes visible again (without
 *   `duty_minutes`: the period runs on); the server answers 409 `not_sharing` once it ended → off;
 * - switching off deletes the point (`DELETE /command/positions/me`);
 * - on load, a period still running on the server (a reload, another tab) shows as on and goes on sending.
 *
 * `PositionSharer` holds that logic with its clock, timer, geolocation and API injected, so it is tested
 * without a browser; `usePositionShare` (the Vue side) holds one sharer for the whole field app, so moving
 * between its pages does not stop the sharing.
 */
import type { Fix } from '@/lib/geolocate'

export const SHARE_EVERY_MS = 2 * 60_000
/** Coming back to the page sends at once, unless a send happened this recently. */
export const VISIBLE_RESEND_MS = 30_000
export const DUTY_HOURS = [2, 4, 8] as const
export type DutyHours = (typeof DUTY_HOURS)[number]

export interface PositionBody {
  lon: number
  lat: number
  accuracy_m: number | null
  duty_minutes?: number | null
}

/** The server's answer about one's own sharing (`OwnPositionOut`). */
export interface OwnPosition {
  sharing: boolean
  visible: boolean
  grid_code: string | null
  grid_name: string | null
  shared_at: string | null
  on_duty_until: string | null
}

export type ShareState = 'off' | 'starting' | 'on' | 'stopping'

/** Why the last attempt did not work: a geolocation problem, the server's error code, or the network. */
export interface ShareProblem {
  kind: 'locate' | 'server' | 'network'
  code: string
  message: string
}

export interface ShareSnapshot {
  state: ShareState
  own: OwnPosition | null
  problem: ShareProblem | null
  /** The duty period ended on the server (shown once as the reason the switch went off). */
  ended: boolean
}

export interface SharerDeps {
  locate(): Promise<Fix>
  put(body: PositionBody): Promise<OwnPosition>
  remove(): Promise<void>
  status(): Promise<OwnPosition>
  now(): number
  every(ms: number, run: () => void): () => void
}

/** What an error thrown by `locate` or the API tells the worker. */
export function problemOf(error: unknown): ShareProblem {
  const e = error as { name?: string; problem?: string; status?: number; code?: string; message?: string }
  if (e?.name === 'LocateError') return { kind: 'locate', code: e.problem ?? 'unavailable', message: e.message ?? '' }
  if (e?.name === 'ApiError' && typeof e.status === 'number' && e.status > 0) {
    return { kind: 'server', code: e.code ?? 'http_error', message: e.message ?? '' }
  }
  return { kind: 'network', code: e?.code ?? 'network', message: e?.message ?? String(error) }
}

/** Errors after which sending again cannot help: the switch goes off. */
function stopsSharing(problem: ShareProblem): boolean {
  if (problem.kind === 'locate') return problem.code === 'denied' || problem.code === 'unsupported'
  return problem.kind === 'server' && ['not_sharing', 'forbidden', 'unauthenticated', 'invalid_token'].includes(problem.code)
}

export function bodyOf(fix: Fix, dutyHours?: DutyHours): PositionBody {
  const body: PositionBody = { lon: fix.lon, lat: fix.lat, accuracy_m: Number.isFinite(fix.accuracy) ? fix.accuracy : null }
  if (dutyHours !== undefined) body.duty_minutes = dutyHours * 60
  return body
}

/** Minutes left of the duty period (0 when ended or unknown). */
export function minutesLeft(own: OwnPosition | null, now: number): number {
  const until = own?.on_duty_until ? Date.parse(own.on_duty_until) : Number.NaN
  return Number.isFinite(until) ? Math.max(0, Math.ceil((until - now) / 60_000)) : 0
}

/** Whole minutes since the last share, or null when none. */
export function minutesAgo(own: OwnPosition | null, now: number): number | null {
  const at = own?.shared_at ? Date.parse(own.shared_at) : Number.NaN
  return Number.isFinite(at) ? Math.max(0, Math.floor((now - at) / 60_000)) : null
}

export class PositionSharer {
  private snapshot: ShareSnapshot = { state: 'off', own: null, problem: null, ended: false }
  private cancelTimer: (() => void) | null = null
  private sending = false
  private lastAttempt = Number.NEGATIVE_INFINITY
  private readonly listeners = new Set<(s: ShareSnapshot) => void>()

  constructor(private readonly deps: SharerDeps) {}

  get current(): ShareSnapshot {
    return this.snapshot
  }

  subscribe(listener: (s: ShareSnapshot) => void): () => void {
    this.listeners.add(listener)
    listener(this.snapshot)
    return () => this.listeners.delete(listener)
  }

  private set(change: Partial<ShareSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change }
    for (const listener of this.listeners) listener(this.snapshot)
  }

  private startTimer(): void {
    this.cancelTimer?.()
    this.cancelTimer = this.deps.every(SHARE_EVERY_MS, () => void this.send())
  }

  private halt(change: Partial<ShareSnapshot>): void {
    this.cancelTimer?.()
    this.cancelTimer = null
    this.set({ state: 'off', ...change })
  }

  /** On load: take up a duty period still running on the server. */
  async resume(): Promise<void> {
    if (this.snapshot.state !== 'off') return
    try {
      const own = await this.deps.status()
      if (!own.sharing || this.snapshot.state !== 'off') return
      this.set({ state: 'on', own, problem: null, ended: false })
      this.startTimer()
      await this.send()
    } catch (error) {
      this.set({ problem: problemOf(error) })
    }
  }

  /** Switch on: a first fix, then a new duty period of `hours`. */
  async start(hours: DutyHours): Promise<boolean> {
    if (this.snapshot.state === 'starting' || this.snapshot.state === 'stopping') return false
    this.set({ state: 'starting', problem: null, ended: false })
    this.lastAttempt = this.deps.now()
    try {
      const own = await this.deps.put(bodyOf(await this.deps.locate(), hours))
      this.set({ state: 'on', own })
      this.startTimer()
      return true
    } catch (error) {
      this.halt({ problem: problemOf(error) })
      return false
    }
  }

  /** Send the current point (the timer, the page becoming visible). */
  async send(): Promise<void> {
    if (this.snapshot.state !== 'on' || this.sending) return
    this.sending = true
    this.lastAttempt = this.deps.now()
    try {
      const own = await this.deps.put(bodyOf(await this.deps.locate()))
      if (this.snapshot.state === 'on') this.set({ own, problem: null })
    } catch (error) {
      const problem = problemOf(error)
      if (this.snapshot.state !== 'on') return
      if (stopsSharing(problem)) this.halt({ problem, ended: problem.code === 'not_sharing', own: null })
      else this.set({ problem }) // no fix or no signal this time: the next tick tries again
    } finally {
      this.sending = false
    }
  }

  /** The page became visible again: send at once unless that just happened. */
  async visible(): Promise<void> {
    if (this.snapshot.state === 'on' && this.deps.now() - this.lastAttempt >= VISIBLE_RESEND_MS) await this.send()
  }

  /** Switch off: no more sends, and the server deletes the point. */
  async stop(): Promise<boolean> {
    if (this.snapshot.state === 'off' || this.snapshot.state === 'stopping') return true
    this.cancelTimer?.()
    this.cancelTimer = null
    this.set({ state: 'stopping', problem: null })
    try {
      await this.deps.remove()
      this.set({ state: 'off', own: null, ended: false })
      return true
    } catch (error) {
      // The point stays on the server until deleted: stay "on" (and sending) so the worker can try again.
      this.set({ state: 'on', problem: problemOf(error) })
      this.startTimer()
      return false
    }
  }

  /** Signed out: stop locally (the session is gone, the server drops the point when the period ends). */
  forget(): void {
    this.halt({ own: null, problem: null, ended: false })
  }
}
