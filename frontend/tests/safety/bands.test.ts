import { describe, expect, it } from 'vitest'
import {
  BAND_COLOURS,
  bandColour,
  bandCounts,
  bandFillExpression,
  bandOf,
  bandRanges,
  formatCount,
  formatProbability,
  formatRate,
  formatRatio,
  formatScore,
  formatShare,
  formatSigned,
  isThresholds,
  NO_BAND_COLOUR,
  oneIn,
} from '@/modules/safety/bands'

const T = { green: 85, yellow: 70, orange: 60 }

describe('bands', () => {
  it('place a score in its band at the thresholds', () => {
    expect(bandOf(100, T)).toBe('green')
    expect(bandOf(85, T)).toBe('green')
    expect(bandOf(84.99, T)).toBe('yellow')
    expect(bandOf(70, T)).toBe('yellow')
    expect(bandOf(60, T)).toBe('orange')
    expect(bandOf(59.9, T)).toBe('red')
    expect(bandOf(0, T)).toBe('red')
    expect(bandOf(null, T)).toBeNull()
    expect(bandOf(Number.NaN, T)).toBeNull()
  })

  it('give each band one colour and unknown bands grey', () => {
    expect(bandColour('red')).toBe(BAND_COLOURS.red)
    expect(bandColour('purple')).toBe(NO_BAND_COLOUR)
    expect(bandColour(null)).toBe(NO_BAND_COLOUR)
    expect(new Set(Object.values(BAND_COLOURS)).size).toBe(4)
    const expr = bandFillExpression()
    expect(expr[0]).toBe('match')
    expect(expr).toContain('orange')
    expect(expr[expr.length - 1]).toBe(NO_BAND_COLOUR)
  })

  it('describe the score range of each band, best first', () => {
    expect(bandRanges(T)).toEqual([
      { band: 'green', low: 85, high: 100 },
      { band: 'yellow', low: 70, high: 85 },
      { band: 'orange', low: 60, high: 70 },
      { band: 'red', low: 0, high: 60 },
    ])
  })

  it('count areas per band', () => {
    expect(bandCounts(['red', 'red', 'green', null, 'x'])).toEqual({ green: 1, yellow: 0, orange: 0, red: 2, none: 2 })
  })

  it('check threshold objects', () => {
    expect(isThresholds(T)).toBe(true)
    expect(isThresholds({ green: 85, yellow: 70 })).toBe(false)
    expect(isThresholds({ green: '85', yellow: 70, orange: 60 })).toBe(false)
    expect(isThresholds(null)).toBe(false)
  })
})

describe('figures', () => {
  it('format scores, rates, counts and ratios', () => {
    expect(formatScore(87.44, 'zh-CN')).toBe('87.4')
    expect(formatScore(90, 'en')).toBe('90.0')
    expect(formatScore(null, 'en')).toBe('—')
    expect(formatRate(3.14159, 'zh-CN')).toBe('3.14')
    expect(formatRate(12.345, 'zh-CN')).toBe('12.3')
    expect(formatCount(12345, 'zh-CN')).toBe('12,345')
    expect(formatRatio(1.348, 'en')).toBe('1.35×')
    expect(formatRatio(714.2857, 'en')).toBe('714×')
    expect(formatRatio(Number.POSITIVE_INFINITY, 'en')).toBe('—')
    expect(formatShare(0.6, 'en')).toBe('60 %')
  })

  it('sign contributions with a true minus sign', () => {
    expect(formatSigned(3.24, 'en')).toBe('+3.2')
    expect(formatSigned(-1.46, 'en')).toBe('−1.5')
    expect(formatSigned(0.04, 'en')).toBe('0.0')
    expect(formatSigned(-0.04, 'en')).toBe('0.0')
  })

  it('write probabilities as a person reads them', () => {
    expect(formatProbability(0.0004, 'en')).toBe('< 0.001')
    expect(formatProbability(0.0123, 'en')).toBe('0.012')
    expect(oneIn(0.0123)).toBe(81)
    expect(oneIn(0.004)).toBe(250)
    expect(oneIn(0.00031)).toBe(3000)
    expect(oneIn(0.6)).toBeNull()
    expect(oneIn(4.1e-11)).toBeNull() // rarer than one in a million: said in words
    expect(oneIn(2e-6)).toBe(500_000)
    expect(oneIn(0)).toBeNull()
  })
})
