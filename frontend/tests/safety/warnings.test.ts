import { describe, expect, it } from 'vitest'
import { evidenceDays, evidenceFigures, liveWarningId, severityTag, statusTag } from '@/modules/safety/warnings'

const surge = {
  count_kind: 'inc:01',
  observed: 19,
  expected: 6.2,
  ratio: 3.065,
  p: 0.00004,
  q: 0.0012,
  model: 'negbin',
  detections: [
    { first: '2026-11-20', last: '2026-11-20', observed: 9, expected: 3.1, p: 0.001, q: 0.02 },
    { first: '2026-11-22', last: '2026-11-22', observed: 10, expected: 3.1, p: 0.0004, q: 0.01 },
  ],
  summary_zh: '……',
}

describe('warnings for people', () => {
  it('tag severities from grey notices to solid red deaths', () => {
    expect(severityTag('notice')).toEqual({ type: 'info', effect: 'light' })
    expect(severityTag('serious').type).toBe('warning')
    expect(severityTag('interview')).toEqual({ type: 'danger', effect: 'light' })
    expect(severityTag('fatal')).toEqual({ type: 'danger', effect: 'dark' })
    expect(statusTag('open')).toBe('danger')
    expect(statusTag('closed')).toBe('success')
  })

  it('read the figures out of the evidence, whatever is missing', () => {
    const f = evidenceFigures(surge)
    expect(f).toMatchObject({ observed: 19, expected: 6.2, ratio: 3.065, p: 0.00004, q: 0.0012, model: 'negbin', summary: '……' })
    expect(evidenceFigures({ observed: 4, expected: 2 }).ratio).toBe(2)
    expect(evidenceFigures({ rule: 'red_streak', streak: 4, score: 55.5 })).toMatchObject({ rule: 'red_streak', streak: 4, score: 55.5, observed: null, p: null })
    expect(evidenceFigures(null).observed).toBeNull()
    expect(evidenceFigures({ observed: 'many' }).observed).toBeNull()
  })

  it('lay a surge out by day: detections where detected, records counted elsewhere', () => {
    const days = evidenceDays({
      period_start: '2026-11-20',
      period_end: '2026-11-23',
      evidence: surge,
      records: [{ day: '2026-11-21' }, { day: '2026-11-21' }, { day: '2026-11-23' }],
    })
    expect(days).toEqual([
      { label: '11-20', observed: 9, expected: 3.1 },
      { label: '11-21', observed: 2, expected: null },
      { label: '11-22', observed: 10, expected: 3.1 },
      { label: '11-23', observed: 1, expected: null },
    ])
  })

  it('leave days empty without records, and draw nothing without any daily figure', () => {
    const days = evidenceDays({ period_start: '2026-11-20', period_end: '2026-11-21', evidence: surge, records: null })
    expect(days?.[1]).toEqual({ label: '11-21', observed: null, expected: null })
    const window = { detections: [{ first: '2026-11-01', last: '2026-11-07', observed: 40 }] }
    expect(evidenceDays({ period_start: '2026-11-01', period_end: '2026-11-07', evidence: window, records: null })).toBeNull()
  })

  it('find the warning a live event is about', () => {
    expect(liveWarningId({ id: 12, action: 'created' })).toBe(12)
    expect(liveWarningId({ warning_id: 3 })).toBe(3)
    expect(liveWarningId({ id: '12' })).toBeNull()
  })
})
