import { describe, expect, it } from 'vitest'
import { formatDateTime, formatNumber, shanghaiToIso } from '@/lib/format'

describe('format', () => {
  it('shows times in Asia/Shanghai', () => {
    expect(formatDateTime('2026-01-02T16:30:00Z')).toBe('2026-01-03 00:30:00')
    expect(formatDateTime('2026-01-02T16:30:00+08:00')).toBe('2026-01-02 16:30:00')
    expect(formatDateTime(null)).toBe('')
    expect(formatDateTime('not a date')).toBe('')
  })

  it('turns picked Shanghai times into ISO 8601 with offset', () => {
    expect(shanghaiToIso('2026-01-02 08:00:00')).toBe('2026-01-02T08:00:00+08:00')
    expect(shanghaiToIso('2026-01-02T08:00')).toBe('2026-01-02T08:00:00+08:00')
  })

  it('formats numbers per language', () => {
    expect(formatNumber(12345, 'zh-CN')).toBe('12,345')
    expect(formatNumber(1.2345, 'en', 2)).toBe('1.23')
    expect(formatNumber(null, 'en')).toBe('—')
  })
})
