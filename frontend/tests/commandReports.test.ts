import { describe, expect, it } from 'vitest'
import { anyPending, defaultDay, fileSize, isFuture, isPending, localDay, statusTag } from '@/modules/command/reports'

describe('report rows', () => {
  it('poll while any report is queued or running', () => {
    expect(isPending('queued')).toBe(true)
    expect(isPending('running')).toBe(true)
    expect(isPending('succeeded')).toBe(false)
    expect(isPending('failed')).toBe(false)
    expect(anyPending([{ status: 'succeeded' }, { status: 'running' }])).toBe(true)
    expect(anyPending([{ status: 'succeeded' }, { status: 'failed' }])).toBe(false)
    expect(anyPending([])).toBe(false)
  })

  it('tag the status', () => {
    expect(statusTag('succeeded')).toBe('success')
    expect(statusTag('failed')).toBe('danger')
    expect(statusTag('queued')).toBe('info')
  })

  it('print file sizes', () => {
    expect(fileSize(null)).toBe('—')
    expect(fileSize(512)).toBe('512 B')
    expect(fileSize(20_480)).toBe('20.0 KB')
    expect(fileSize(3 * 1024 * 1024)).toBe('3.0 MB')
  })
})

describe('report days on the Shanghai calendar', () => {
  // Monday 16 November 2026, 01:00 in Shanghai (still Sunday the 15th in UTC).
  const monday = new Date('2026-11-15T17:00:00Z')

  it('take the local day', () => {
    expect(localDay(monday)).toBe('2026-11-16')
  })

  it('default to the last whole week or month', () => {
    expect(defaultDay('week', monday)).toBe('2026-11-15')
    expect(defaultDay('month', monday)).toBe('2026-10-31')
    expect(defaultDay('week', new Date('2026-11-22T03:00:00Z'))).toBe('2026-11-15') // Sunday: the week before
    expect(defaultDay('month', new Date('2027-01-01T01:00:00Z'))).toBe('2026-12-31')
  })

  it('refuse days after today', () => {
    expect(isFuture(new Date(2026, 10, 17), monday)).toBe(true)
    expect(isFuture(new Date(2026, 10, 16), monday)).toBe(false)
  })
})
