import { describe, expect, it } from 'vitest'
import { labelSize, placeLabels } from '@/lib/labels'

describe('labels', () => {
  it('estimates CJK text wider than Latin text', () => {
    expect(labelSize('东风社区', 12)).toEqual({ width: 52, height: 16 })
    expect(labelSize('abcd', 10).width).toBeCloseTo(28)
  })

  it('keeps the first of two overlapping labels', () => {
    const a = { code: 'A', x: 100, y: 100, width: 60, height: 16 }
    const b = { code: 'B', x: 130, y: 105, width: 60, height: 16 }
    const c = { code: 'C', x: 300, y: 100, width: 60, height: 16 }
    expect(placeLabels([a, b, c])).toEqual(['A', 'C'])
    expect(placeLabels([b, a, c])).toEqual(['B', 'C'])
  })

  it('keeps labels that only touch and respects the limit', () => {
    const a = { code: 'A', x: 0, y: 0, width: 10, height: 10 }
    const b = { code: 'B', x: 10, y: 0, width: 10, height: 10 }
    expect(placeLabels([a, b])).toEqual(['A', 'B'])
    expect(placeLabels([a, b], 1)).toEqual(['A'])
  })
})
