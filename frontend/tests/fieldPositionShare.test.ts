import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/errors'
import { LocateError, type Fix } from '@/lib/geolocate'
import {
  bodyOf,
  minutesAgo,
  minutesLeft,
  PositionSharer,
  problemOf,
  SHARE_EVERY_MS,
  VISIBLE_RESEND_MS,
  type OwnPosition,
  type PositionBody,
} from '@/modules/mobile/cases/positionShare'

const T0 = Date.parse('2026-05-01T02:00:00Z')
const FIX: Fix = { lon: 117.1, lat: 32.2, accuracy: 12 }

function own(extra: Partial<OwnPosition> = {}): OwnPosition {
  return {
    sharing: true,
    visible: true,
    grid_code: '340303001001001',
    grid_name: '天桥社区第1网格',
    shared_at: new Date(T0).toISOString(),
    on_duty_until: new Date(T0 + 4 * 3600_000).toISOString(),
    ...extra,
  }
}

/** A sharer over fakes: a clock, a timer run by hand, a scripted geolocation and server. */
function setup(options: { status?: OwnPosition; locate?: Array<Fix | Error>; put?: Array<OwnPosition | Error>; remove?: Error } = {}) {
  const sent: PositionBody[] = []
  const timers: Array<{ ms: number; run: () => void; cancelled: boolean }> = []
  let removed = 0
  let clock = T0
  const fixes = [...(options.locate ?? [])]
  const answers = [...(options.put ?? [])]
  const sharer = new PositionSharer({
    locate: async () => {
      const next = fixes.shift() ?? FIX
      if (next instanceof Error) throw next
      return next
    },
    put: async (body) => {
      sent.push(body)
      const next = answers.shift() ?? own({ shared_at: new Date(clock).toISOString() })
      if (next instanceof Error) throw next
      return next
    },
    remove: async () => {
      if (options.remove) throw options.remove
      removed += 1
    },
    status: async () => options.status ?? own({ sharing: false, shared_at: null, on_duty_until: null }),
    now: () => clock,
    every: (ms, run) => {
      const timer = { ms, run, cancelled: false }
      timers.push(timer)
      return () => (timer.cancelled = true)
    },
  })
  const live = () => timers.filter((t) => !t.cancelled)
  return {
    sharer,
    sent,
    live,
    removed: () => removed,
    advance: (ms: number) => (clock += ms),
    tick: async () => {
      for (const t of live()) t.run()
      await new Promise((resolve) => setTimeout(resolve, 0))
    },
  }
}

describe('sharing the position on duty', () => {
  it('starts a duty period with the first fix and then sends every two minutes without a new length', async () => {
    const s = setup()
    expect(await s.sharer.start(4)).toBe(true)
    expect(s.sent).toEqual([{ lon: 117.1, lat: 32.2, accuracy_m: 12, duty_minutes: 240 }])
    expect(s.sharer.current.state).toBe('on')
    expect(s.live().map((t) => t.ms)).toEqual([SHARE_EVERY_MS])
    s.advance(SHARE_EVERY_MS)
    await s.tick()
    expect(s.sent[1]).toEqual({ lon: 117.1, lat: 32.2, accuracy_m: 12 })
    expect(s.sharer.current.own?.shared_at).toBe(new Date(T0 + SHARE_EVERY_MS).toISOString())
  })

  it('goes off when the server says the duty period ended', async () => {
    const s = setup({ put: [own(), new ApiError(409, 'not_sharing', 'duty ended')] })
    await s.sharer.start(2)
    await s.tick()
    expect(s.sharer.current).toMatchObject({ state: 'off', ended: true, own: null })
    expect(s.sharer.current.problem?.code).toBe('not_sharing')
    expect(s.live()).toEqual([])
  })

  it('keeps trying after a missing fix or signal, and says so', async () => {
    const s = setup({ locate: [FIX, new LocateError('timeout', 'timed out')], put: [own(), own(), new TypeError('Failed to fetch')] })
    await s.sharer.start(8)
    await s.tick()
    expect(s.sharer.current).toMatchObject({ state: 'on', problem: { kind: 'locate', code: 'timeout' } })
    await s.tick()
    expect(s.sharer.current.problem).toBeNull()
    await s.tick()
    expect(s.sharer.current).toMatchObject({ state: 'on', problem: { kind: 'network' } })
    expect(s.live()).toHaveLength(1)
  })

  it('a point outside the city is not shared but sharing goes on', async () => {
    const s = setup({ put: [own(), new ApiError(422, 'outside_city', 'outside')] })
    await s.sharer.start(2)
    await s.tick()
    expect(s.sharer.current).toMatchObject({ state: 'on', problem: { kind: 'server', code: 'outside_city' } })
  })

  it('does not start when the browser refuses to locate', async () => {
    const s = setup({ locate: [new LocateError('denied', 'denied')] })
    expect(await s.sharer.start(4)).toBe(false)
    expect(s.sent).toEqual([])
    expect(s.sharer.current).toMatchObject({ state: 'off', problem: { kind: 'locate', code: 'denied' } })
    expect(s.live()).toEqual([])
  })

  it('stops: no more sends and the point is deleted; a failed delete keeps it on to try again', async () => {
    const s = setup()
    await s.sharer.start(4)
    expect(await s.sharer.stop()).toBe(true)
    expect(s.removed()).toBe(1)
    expect(s.sharer.current).toMatchObject({ state: 'off', own: null })
    await s.tick()
    expect(s.sent).toHaveLength(1)
    const failing = setup({ remove: new TypeError('Failed to fetch') })
    await failing.sharer.start(4)
    expect(await failing.sharer.stop()).toBe(false)
    expect(failing.sharer.current).toMatchObject({ state: 'on', problem: { kind: 'network' } })
    expect(failing.live()).toHaveLength(1)
  })

  it('sends when the page becomes visible, unless it just did', async () => {
    const s = setup()
    await s.sharer.start(4)
    await s.sharer.visible()
    expect(s.sent).toHaveLength(1)
    s.advance(VISIBLE_RESEND_MS)
    await s.sharer.visible()
    expect(s.sent).toHaveLength(2)
    await s.sharer.stop()
    s.advance(VISIBLE_RESEND_MS)
    await s.sharer.visible()
    expect(s.sent).toHaveLength(2)
  })

  it('takes up a duty period still running on the server, and not one that is not', async () => {
    const running = setup({ status: own() })
    await running.sharer.resume()
    expect(running.sharer.current.state).toBe('on')
    expect(running.sent).toEqual([{ lon: 117.1, lat: 32.2, accuracy_m: 12 }])
    expect(running.live()).toHaveLength(1)
    const idle = setup()
    await idle.sharer.resume()
    expect(idle.sharer.current.state).toBe('off')
    expect(idle.sent).toEqual([])
  })

  it('sends one point at a time', async () => {
    const s = setup()
    await s.sharer.start(2)
    await Promise.all([s.sharer.send(), s.sharer.send()])
    expect(s.sent).toHaveLength(2)
  })

  it('forgets locally on sign-out', async () => {
    const s = setup()
    await s.sharer.start(2)
    s.sharer.forget()
    expect(s.sharer.current.state).toBe('off')
    expect(s.live()).toEqual([])
  })
})

describe('share helpers', () => {
  it('build the body and read the times', () => {
    expect(bodyOf({ lon: 1, lat: 2, accuracy: Number.NaN })).toEqual({ lon: 1, lat: 2, accuracy_m: null })
    expect(bodyOf(FIX, 8).duty_minutes).toBe(480)
    expect(minutesLeft(own(), T0 + 30 * 60_000)).toBe(210)
    expect(minutesLeft(own(), T0 + 5 * 3600_000)).toBe(0)
    expect(minutesLeft(null, T0)).toBe(0)
    expect(minutesAgo(own(), T0 + 150_000)).toBe(2)
    expect(minutesAgo(own({ shared_at: null }), T0)).toBeNull()
  })

  it('tell geolocation, server and network problems apart', () => {
    expect(problemOf(new LocateError('denied', 'no'))).toEqual({ kind: 'locate', code: 'denied', message: 'no' })
    expect(problemOf(new ApiError(409, 'not_sharing', 'ended'))).toMatchObject({ kind: 'server', code: 'not_sharing' })
    expect(problemOf(new ApiError(0, 'network_error', 'offline'))).toMatchObject({ kind: 'network' })
    expect(problemOf(new TypeError('Failed to fetch'))).toMatchObject({ kind: 'network' })
  })
})
