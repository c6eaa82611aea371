import { describe, expect, it } from 'vitest'
import { childLevel, extent, heatExpression, labelPoints, levelsBelow, paintedCollection, pointExtent, relative } from '@/modules/safety/areaMap'

const square = (x: number, y: number, size = 1) => ({
  type: 'Polygon',
  coordinates: [
    [
      [x, y],
      [x + size, y],
      [x + size, y + size],
      [x, y + size],
      [x, y],
    ],
  ],
})
const feature = (code: string, name: string, x: number) => ({ geometry: square(x, 0), properties: { code, name } })

describe('area maps', () => {
  it('step down the levels', () => {
    expect(childLevel('city')).toBe('district')
    expect(childLevel('community')).toBe('grid')
    expect(childLevel('grid')).toBeNull()
    expect(levelsBelow('district')).toEqual(['street', 'community', 'grid'])
    expect(levelsBelow('grid')).toEqual([])
  })

  it('join boundaries to their figures, keeping only the listed areas when asked', () => {
    const features = [feature('A', 'A区', 0), feature('B', 'B区', 2)]
    const all = paintedCollection(features, [{ code: 'A', band: 'red', score: 61.5 }])
    expect(all.features.map((f) => f.properties)).toEqual([
      { code: 'A', name: 'A区', band: 'red', score: 61.5 },
      { code: 'B', name: 'B区', band: null, score: null },
    ])
    const only = paintedCollection(features, [{ code: 'B', band: 'green', score: 95, name: '乙' }], true)
    expect(only.features).toHaveLength(1)
    expect(only.features[0]!.properties).toMatchObject({ code: 'B', name: '乙', band: 'green' })
  })

  it('find the extent and label points', () => {
    expect(extent([feature('A', 'a', 0), feature('B', 'b', 2)])).toEqual([0, 0, 3, 1])
    expect(extent([{ geometry: null }])).toBeNull()
    const labels = labelPoints([feature('A', 'a', 0)])
    const [x, y] = labels.get('A')!
    expect(x).toBeGreaterThan(0)
    expect(x).toBeLessThan(1)
    expect(y).toBeGreaterThan(0)
    expect(pointExtent([{ lon: 1, lat: 2 }, { lon: 3, lat: -1 }])).toEqual([1, -1, 3, 2])
    expect(pointExtent([])).toBeNull()
  })

  it('scale forecast scores to the largest', () => {
    expect(relative([2, 4, null, -1])).toEqual([0.5, 1, 0, 0])
    expect(relative([0, 0])).toEqual([0, 0])
    const expr = heatExpression()
    expect(expr[0]).toBe('interpolate')
    expect(expr[3]).toBe(0)
    expect(expr[expr.length - 2]).toBe(1)
  })
})

describe('hotspot shading', () => {
  it('spreads skewed scores over the palette by their square root, keeping the rank', async () => {
    const { heatCollection } = await import('@/modules/safety/hotspots')
    const square = { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] }
    const f = (id: string, rank: number, score: number) => ({ id, geometry: square, properties: { id, rank, score } })
    const out = heatCollection([f('a', 1, 16), f('b', 2, 4), f('c', 3, 0)])
    expect(out.features.map((x) => x.properties)).toEqual([
      { id: 'a', rank: 1, score: 16, value: 1 },
      { id: 'b', rank: 2, score: 4, value: 0.5 },
      { id: 'c', rank: 3, score: 0, value: 0 },
    ])
  })
})
