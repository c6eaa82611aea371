import { describe, expect, it } from 'vitest'
import { PALETTE, quantileBreaks, roundNice, spread, stepExpression } from '@/lib/classes'

describe('choropleth classes', () => {
  it('rounds down to two significant digits', () => {
    expect(roundNice(1234)).toBe(1200)
    expect(roundNice(0.01234)).toBeCloseTo(0.012)
    expect(roundNice(98765)).toBe(98000)
    expect(roundNice(40.7)).toBe(40)
    expect(roundNice(0)).toBe(0)
    expect(roundNice(-5)).toBe(0)
  })

  it('splits values into quantile classes starting at 0', () => {
    const values = Array.from({ length: 600 }, (_, i) => i * 10)
    expect(quantileBreaks(values, 6)).toEqual([0, 1000, 2000, 3000, 4000, 5000])
  })

  it('merges equal bounds for uniform data and copes with none', () => {
    expect(quantileBreaks([5, 5, 5, 5])).toEqual([0])
    expect(quantileBreaks([40.7])).toEqual([0])
    expect(quantileBreaks([1, 1, 1, 9])).toEqual([0, 1, 9])
    expect(quantileBreaks([])).toEqual([0])
    expect(quantileBreaks([Number.NaN, -1])).toEqual([0])
  })

  it('builds a step expression with one colour per class', () => {
    expect(stepExpression('density', [0, 10, 100], ['a', 'b', 'c'])).toEqual([
      'step',
      ['coalesce', ['get', 'density'], 0],
      'a',
      10,
      'b',
      100,
      'c',
    ])
    // MapLibre refuses a step with no stops: one class is a plain colour.
    expect(stepExpression('density', [0], ['a', 'b', 'c'])).toBe('b')
    expect(spread(PALETTE.length)).toEqual([...PALETTE])
    expect(spread(2, ['a', 'b', 'c'])).toEqual(['a', 'c'])
    expect(spread(1, ['a', 'b', 'c'])).toEqual(['b'])
  })
})
