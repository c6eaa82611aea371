import { describe, expect, it } from 'vitest'
import { MY_REPORTS_KEY, forgetReport, loadReports, rememberReport, stepOf } from '@/modules/resident/myReports'

function memory(initial: Record<string, string> = {}) {
  const data = { ...initial }
  return { getItem: (k: string) => data[k] ?? null, setItem: (k: string, v: string) => void (data[k] = v), data }
}

describe('my reports', () => {
  it('remembers tokens newest first, once each', () => {
    const store = memory()
    rememberReport({ token: 'a', code: 'SJ1', at: '2026-01-01T00:00:00Z', followed: false }, store)
    rememberReport({ token: 'b', code: 'SJ2', at: '2026-01-02T00:00:00Z', followed: true }, store)
    rememberReport({ token: 'a', code: 'SJ1', at: '2026-01-03T00:00:00Z', followed: false }, store)
    expect(loadReports(store).map((r) => r.token)).toEqual(['a', 'b'])
    expect(forgetReport('a', store).map((r) => r.token)).toEqual(['b'])
  })

  it('keeps at most 50', () => {
    const store = memory()
    for (let i = 0; i < 60; i++) rememberReport({ token: `t${i}`, code: `SJ${i}`, at: '', followed: false }, store)
    const kept = loadReports(store)
    expect(kept).toHaveLength(50)
    expect(kept[0]?.token).toBe('t59')
  })

  it('survives damaged or missing storage', () => {
    expect(loadReports(memory({ [MY_REPORTS_KEY]: 'not json' }))).toEqual([])
    expect(loadReports(memory({ [MY_REPORTS_KEY]: '[{"x":1},{"token":"a","code":"SJ1"}]' })).map((r) => r.token)).toEqual(['a'])
    expect(loadReports(undefined)).toEqual([])
    const broken = { getItem: () => null, setItem: () => { throw new Error('quota') } }
    expect(rememberReport({ token: 'a', code: 'SJ1', at: '', followed: false }, broken)).toHaveLength(1)
  })
})

describe('public steps', () => {
  it('map every status to the resident’s five steps', () => {
    expect(['reported', 'accepted', 'escalated', 'dispatched', 'in_progress', 'returned', 'handled', 'verifying', 'closed'].map(stepOf)).toEqual([
      0, 1, 1, 2, 2, 2, 3, 3, 4,
    ])
  })
})
