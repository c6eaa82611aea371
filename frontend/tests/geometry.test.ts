import { describe, expect, it } from 'vitest'
import { areaKm2, bbox, bboxIntersects, containsPoint, density, labelPoint } from '@/lib/geometry'

const square = (x: number, y: number, size: number) => ({
  type: 'Polygon' as const,
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

describe('geometry', () => {
  it('measures areas on the sphere', () => {
    // 0.01° × 0.01° at Bengbu's latitude ≈ 1.112 km × 0.933 km
    const a = areaKm2(square(117.38, 32.9, 0.01))
    expect(a).toBeGreaterThan(1.02)
    expect(a).toBeLessThan(1.06)
  })

  it('subtracts holes and adds multipolygon parts', () => {
    const outer = square(0, 0, 1).coordinates[0]!
    const hole = square(0.25, 0.25, 0.5).coordinates[0]!
    const whole = areaKm2(square(0, 0, 1))
    const withHole = areaKm2({ type: 'Polygon', coordinates: [outer, hole] })
    expect(withHole).toBeCloseTo(whole * 0.75, -1)
    const two = areaKm2({ type: 'MultiPolygon', coordinates: [[outer], square(5, 0, 1).coordinates] })
    expect(two).toBeCloseTo(whole * 2, -1)
    expect(areaKm2({ type: 'Point', coordinates: [0, 0] })).toBe(0)
    expect(areaKm2(null)).toBe(0)
  })

  it('computes bounding boxes', () => {
    expect(bbox(square(1, 2, 3))).toEqual([1, 2, 4, 5])
    expect(bbox({ type: 'LineString', coordinates: [] })).toBeNull()
    expect(bboxIntersects([0, 0, 1, 1], [1, 1, 2, 2])).toBe(true)
    expect(bboxIntersects([0, 0, 1, 1], [1.1, 0, 2, 1])).toBe(false)
  })

  it('tests points against polygons with holes', () => {
    const donut = { type: 'Polygon', coordinates: [square(0, 0, 4).coordinates[0], square(1, 1, 2).coordinates[0]] }
    expect(containsPoint(donut, 0.5, 0.5)).toBe(true)
    expect(containsPoint(donut, 2, 2)).toBe(false)
    expect(containsPoint(donut, 5, 5)).toBe(false)
  })

  it('puts labels inside concave shapes', () => {
    // A "U": its centroid falls in the notch, outside the polygon.
    const u = {
      type: 'Polygon',
      coordinates: [
        [
          [0, 0],
          [3, 0],
          [3, 3],
          [2, 3],
          [2, 1],
          [1, 1],
          [1, 3],
          [0, 3],
          [0, 0],
        ],
      ],
    }
    const p = labelPoint(u)
    expect(p).not.toBeNull()
    expect(containsPoint(u, p![0], p![1])).toBe(true)
    const sq = labelPoint(square(0, 0, 2))!
    expect(sq[0]).toBeCloseTo(1)
    expect(sq[1]).toBeCloseTo(1)
  })

  it('computes density only for a known area', () => {
    expect(density(5000, 2)).toBe(2500)
    expect(density(5000, 0)).toBeNull()
  })
})
