import { describe, expect, it } from 'vitest'
import { delta, deltaText, figureText } from '@/modules/command/figures'
import { addLivePoint, fade, liveFeatures, LIVE_TTL_MS, MIN_OPACITY, prune } from '@/modules/command/liveLayer'
import type { FeedItem } from '@/modules/command/feed'

describe('figure deltas', () => {
  it('compares today with yesterday', () => {
    expect(delta(12, 10)).toEqual({ diff: 2, ratio: 0.2, trend: 'up', worse: true })
    expect(delta(8, 10)).toEqual({ diff: -2, ratio: -0.2, trend: 'down', worse: false })
    expect(delta(8, 10, true)).toMatchObject({ worse: true })
    expect(delta(12, 10, true)).toMatchObject({ worse: false })
    expect(delta(5, 5)).toEqual({ diff: 0, ratio: 0, trend: 'flat', worse: false })
    expect(delta(3, 0)).toEqual({ diff: 3, ratio: null, trend: 'up', worse: true })
  })

  it('is unknown when a side is unknown', () => {
    expect(delta(null, 3)).toBeNull()
    expect(delta(3, undefined)).toBeNull()
    expect(delta(Number.NaN, 3)).toBeNull()
  })

  it('writes the change', () => {
    expect(deltaText(delta(12, 10), 'zh-CN')).toBe('+2 (+20 %)')
    expect(deltaText(delta(1, 3), 'en')).toBe('−2 (−66.7 %)')
    expect(deltaText(delta(3, 0), 'en')).toBe('+3')
    expect(deltaText(delta(3, 3), 'en')).toBe('±0')
    expect(deltaText(null, 'en')).toBe('')
    expect(figureText(12345, 'en')).toBe('12,345')
    expect(figureText(null, 'en')).toBe('—')
  })
})

describe('live points', () => {
  const item = (key: string, lon: number | null = 117.3): FeedItem => ({
    key,
    kind: key.startsWith('warning') ? 'warning' : 'case',
    id: 1,
    at: 0,
    title: '',
    detail: '',
    tone: 'info',
    areaCode: null,
    lon,
    lat: 32.9,
  })

  it('fade from full to faint, then go', () => {
    expect(fade(0, 0)).toBe(1)
    expect(fade(0, LIVE_TTL_MS / 2)).toBeCloseTo(1 - (1 - MIN_OPACITY) / 2)
    expect(fade(0, LIVE_TTL_MS - 1)).toBeGreaterThanOrEqual(MIN_OPACITY)
    expect(fade(0, LIVE_TTL_MS)).toBe(0)
    expect(fade(100, 0)).toBe(1)
  })

  it('are added once, only with a place, not for warnings, at most max', () => {
    let points = addLivePoint([], item('case:1'), 0)
    points = addLivePoint(points, item('case:1'), 5)
    points = addLivePoint(points, item('case:2', null), 5)
    points = addLivePoint(points, item('warning:1'), 5)
    expect(points.map((p) => p.key)).toEqual(['case:1'])
    points = addLivePoint(points, item('case:3'), 6, 1)
    expect(points.map((p) => p.key)).toEqual(['case:3'])
  })

  it('are pruned and drawn with their opacity', () => {
    const points = [addLivePoint([], item('case:1'), 0)[0]!, addLivePoint([], item('case:2'), LIVE_TTL_MS)[0]!]
    expect(prune(points, LIVE_TTL_MS).map((p) => p.key)).toEqual(['case:2'])
    const drawn = liveFeatures(points, LIVE_TTL_MS)
    expect(drawn.features).toHaveLength(1)
    expect(drawn.features[0]?.properties).toMatchObject({ key: 'case:2', opacity: 1, kind: 'case' })
  })
})
