import { describe, expect, it, vi } from 'vitest'
import type { BoundaryLevel } from '@/api/types'
import { BoundaryLoader, type FetchBoundaries } from '@/modules/geo/boundaryLoader'

function box(code: string, level: BoundaryLevel, parent: string | null, x: number, y: number, size: number) {
  return {
    type: 'Feature' as const,
    id: code,
    geometry: {
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
    },
    properties: { code, name: code, level, parent_code: parent, households: 10, population: 1000 },
  }
}

// Two streets side by side, each with two communities, each community with two grids.
const DATA: Record<string, ReturnType<typeof box>[]> = {
  'district:*': [box('D1', 'district', 'C', 0, 0, 4)],
  'street:*': [box('S1', 'street', 'D1', 0, 0, 2), box('S2', 'street', 'D1', 2, 0, 2)],
  'community:S1': [box('M1', 'community', 'S1', 0, 0, 1), box('M2', 'community', 'S1', 1, 0, 1)],
  'community:S2': [box('M3', 'community', 'S2', 2, 0, 1), box('M4', 'community', 'S2', 3, 0, 1)],
  'grid:M1': [box('G1', 'grid', 'M1', 0, 0, 0.5), box('G2', 'grid', 'M1', 0.5, 0, 0.5)],
  'grid:M2': [box('G3', 'grid', 'M2', 1, 0, 0.5)],
  'grid:M3': [box('G4', 'grid', 'M3', 2, 0, 0.5)],
  'grid:M4': [box('G5', 'grid', 'M4', 3, 0, 0.5)],
  'grid:*': [box('G9', 'grid', 'M9', 10, 10, 0.5)],
}

function fakeFetch() {
  return vi.fn<FetchBoundaries>(async (level, parent) => ({
    type: 'FeatureCollection' as const,
    features: DATA[`${level}:${parent ?? '*'}`] ?? [],
  }))
}

describe('BoundaryLoader', () => {
  it('fetches districts and streets of the scope once', async () => {
    const fetch = fakeFetch()
    const loader = new BoundaryLoader({ scopeLevel: 'city', fetch })
    await loader.ensure('street', [0, 0, 1, 1])
    await loader.ensure('street', [3, 0, 4, 1])
    expect(fetch.mock.calls).toEqual([['street', null]])
    expect(loader.features('street').map((f) => f.code)).toEqual(['S1', 'S2'])
  })

  it('fetches communities only for streets in view', async () => {
    const fetch = fakeFetch()
    const loader = new BoundaryLoader({ scopeLevel: 'city', fetch })
    await loader.ensure('community', [0.1, 0.1, 0.9, 0.9])
    expect(fetch.mock.calls).toEqual([
      ['street', null],
      ['community', 'S1'],
    ])
    expect(loader.features('community').map((f) => f.code)).toEqual(['M1', 'M2'])
  })

  it('fetches grids for the communities in view, nearest first, within the cap', async () => {
    const fetch = fakeFetch()
    const loader = new BoundaryLoader({ scopeLevel: 'city', fetch, maxParents: 1 })
    expect(await loader.ensure('grid', [0.9, 0.1, 1.6, 0.9])).toBe(false)
    // In view: street S1 → communities M1 and M2; M2's centre (1.5) is nearer than M1's (0.5).
    expect(fetch.mock.calls.filter(([level]) => level === 'grid')).toEqual([['grid', 'M2']])
    expect(await loader.ensure('grid', [0.9, 0.1, 1.6, 0.9])).toBe(true)
    expect(fetch.mock.calls.filter(([level]) => level === 'grid')).toEqual([
      ['grid', 'M2'],
      ['grid', 'M1'],
    ])
  })

  it('fetches all grids at once for a small scope (a grid worker sees their grid only)', async () => {
    const fetch = fakeFetch()
    const loader = new BoundaryLoader({ scopeLevel: 'grid', fetch })
    await loader.ensure('grid', [0, 0, 1, 1])
    expect(fetch.mock.calls).toEqual([['grid', null]])
    expect(loader.features('grid').map((f) => f.code)).toEqual(['G9'])
  })

  it('shares one request between concurrent callers', async () => {
    const fetch = fakeFetch()
    const loader = new BoundaryLoader({ scopeLevel: 'city', fetch })
    await Promise.all([loader.ensure('district', [0, 0, 1, 1]), loader.ensure('district', [0, 0, 1, 1])])
    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('derives area, density, label point and lookup', async () => {
    const loader = new BoundaryLoader({ scopeLevel: 'city', fetch: fakeFetch() })
    await loader.ensureChildren('grid', 'M1')
    const g1 = loader.find('G1')!
    expect(g1.level).toBe('grid')
    expect(g1.parentCode).toBe('M1')
    expect(g1.areaKm2).toBeGreaterThan(3000) // 0.5° square near the equator
    expect(g1.density).toBeCloseTo(1000 / g1.areaKm2)
    expect(g1.label![0]).toBeCloseTo(0.25)
    expect(loader.find('nope')).toBeUndefined()
    expect(loader.version).toBe(1)
  })

  it('lets a failed request be retried', async () => {
    const fetch = fakeFetch()
    fetch.mockRejectedValueOnce(new Error('boom'))
    const loader = new BoundaryLoader({ scopeLevel: 'city', fetch })
    await expect(loader.ensure('district', [0, 0, 1, 1])).rejects.toThrow('boom')
    await loader.ensure('district', [0, 0, 1, 1])
    expect(loader.features('district')).toHaveLength(1)
  })
})
