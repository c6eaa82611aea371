import { describe, expect, it } from 'vitest'
import { display, EMPTY, hiddenCount, isMasked, maskSegments, shanghaiToday } from '@/lib/masking'

describe('masked values', () => {
  it('splits a masked value into shown and hidden runs', () => {
    expect(maskSegments('340303********5244')).toEqual([
      { text: '340303', masked: false },
      { text: '********', masked: true },
      { text: '5244', masked: false },
    ])
    expect(maskSegments('张*明')).toEqual([
      { text: '张', masked: false },
      { text: '*', masked: true },
      { text: '明', masked: false },
    ])
    expect(maskSegments(null)).toEqual([])
  })

  it('keeps characters outside the BMP whole', () => {
    expect(maskSegments('𠀋*')).toEqual([
      { text: '𠀋', masked: false },
      { text: '*', masked: true },
    ])
  })

  it('counts hidden characters and knows a masked value', () => {
    expect(hiddenCount('139****9495')).toBe(4)
    expect(isMasked('139****9495')).toBe(true)
    expect(isMasked('13912349495')).toBe(false)
    expect(isMasked(null)).toBe(false)
  })

  it('shows one placeholder for empty values', () => {
    expect(display(null)).toBe(EMPTY)
    expect(display('  ')).toBe(EMPTY)
    expect(display(0)).toBe('0')
    expect(display('汉族')).toBe('汉族')
  })

  it("gives today's date in Shanghai", () => {
    expect(shanghaiToday(new Date('2026-11-29T17:30:00Z'))).toBe('2026-11-30')
    expect(shanghaiToday(new Date('2026-11-29T15:59:00Z'))).toBe('2026-11-29')
  })
})
