import { describe, expect, it } from 'vitest'
import { fetchWholeScope, firstMapLevel, LEVEL_MIN_ZOOM, levelForZoom, parentLevel } from '@/lib/levels'

describe('zoom → level', () => {
  it('draws districts, streets, communities, grids as the city user zooms in', () => {
    expect(levelForZoom(8)).toBe('district')
    expect(levelForZoom(9.99)).toBe('district')
    expect(levelForZoom(10)).toBe('street')
    expect(levelForZoom(11.4)).toBe('street')
    expect(levelForZoom(11.5)).toBe('community')
    expect(levelForZoom(12.9)).toBe('community')
    expect(levelForZoom(13)).toBe('grid')
    expect(levelForZoom(18)).toBe('grid')
  })

  it('never draws levels above the children of the user scope', () => {
    expect(levelForZoom(8, 'district')).toBe('street')
    expect(levelForZoom(8, 'street')).toBe('community')
    expect(levelForZoom(8, 'community')).toBe('grid')
    expect(levelForZoom(14, 'street')).toBe('grid')
  })

  it('always draws grids for a grid worker', () => {
    expect(levelForZoom(3, 'grid')).toBe('grid')
    expect(levelForZoom(17, 'grid')).toBe('grid')
  })

  it('has increasing thresholds', () => {
    const values = Object.values(LEVEL_MIN_ZOOM)
    expect([...values].sort((a, b) => a - b)).toEqual(values)
  })
})

describe('levels', () => {
  it('starts the map at the scope children', () => {
    expect(firstMapLevel('city')).toBe('district')
    expect(firstMapLevel('district')).toBe('street')
    expect(firstMapLevel('community')).toBe('grid')
    expect(firstMapLevel('grid')).toBe('grid')
  })

  it('knows map parents', () => {
    expect(parentLevel('district')).toBeNull()
    expect(parentLevel('street')).toBe('district')
    expect(parentLevel('grid')).toBe('community')
  })

  it('fetches few levels whole and many levels per visible parent unless the scope is small', () => {
    expect(fetchWholeScope('district', 'city')).toBe(true)
    expect(fetchWholeScope('street', 'city')).toBe(true)
    expect(fetchWholeScope('community', 'city')).toBe(false)
    expect(fetchWholeScope('community', 'street')).toBe(true)
    expect(fetchWholeScope('grid', 'street')).toBe(false)
    expect(fetchWholeScope('grid', 'community')).toBe(true)
    expect(fetchWholeScope('grid', 'grid')).toBe(true)
  })
})
