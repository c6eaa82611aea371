import { describe, expect, it } from 'vitest'
import { backTo, childLevel, communityOfGrid, currentStep, drillInto, inArea, mapQuery, shortName, childName, up, type AreaStep } from '@/modules/command/drill'

const city: AreaStep = { code: '340300', name: '蚌埠市', level: 'city' }
const district: AreaStep = { code: '340302', name: '龙子湖区', level: 'district' }
const street: AreaStep = { code: '340302001', name: '东风街道', level: 'street' }
const community: AreaStep = { code: '340302001002', name: '某社区', level: 'community' }
const grid: AreaStep = { code: '340302001002003', name: '第3网格', level: 'grid' }
const sibling: AreaStep = { code: '340302001002004', name: '第4网格', level: 'grid' }

describe('drill-down trail', () => {
  it('goes down one level per click', () => {
    let trail = [city]
    trail = drillInto(trail, district)
    trail = drillInto(trail, street)
    trail = drillInto(trail, community)
    trail = drillInto(trail, grid)
    expect(trail.map((s) => s.level)).toEqual(['city', 'district', 'street', 'community', 'grid'])
    expect(currentStep(trail)).toEqual(grid)
  })

  it('ignores a click that skips a level or goes up, and the area already shown', () => {
    expect(drillInto([city], street)).toEqual([city])
    expect(drillInto([city, district], city)).toEqual([city, district])
    expect(drillInto([city, district], district)).toEqual([city, district])
  })

  it('moves sideways between grids at the bottom', () => {
    const trail = [city, district, street, community, grid]
    expect(drillInto(trail, sibling)).toEqual([city, district, street, community, sibling])
    // A grid worker's own grid is the first step: it stays.
    expect(drillInto([grid], sibling)).toEqual([grid])
  })

  it('starts with the first step given', () => {
    expect(drillInto([], street)).toEqual([street])
    expect(currentStep([])).toBeUndefined()
  })

  it('goes back by the breadcrumb, never above the scope', () => {
    const trail = [city, district, street, community]
    expect(backTo(trail, 1)).toEqual([city, district])
    expect(backTo(trail, 0)).toEqual([city])
    expect(backTo(trail, -5)).toEqual([city])
    expect(backTo(trail, 99)).toEqual(trail)
    expect(backTo([], 0)).toEqual([])
    expect(up(trail)).toEqual([city, district, street])
    expect(up([city])).toEqual([city])
  })

  it('names the level of the children', () => {
    expect(childLevel('city')).toBe('district')
    expect(childLevel('community')).toBe('grid')
    expect(childLevel('grid')).toBeNull()
  })
})

describe('area membership by code', () => {
  it('follows the national code prefixes', () => {
    expect(inArea(grid.code, city)).toBe(true)
    expect(inArea(grid.code, district)).toBe(true)
    expect(inArea(grid.code, street)).toBe(true)
    expect(inArea(grid.code, community)).toBe(true)
    expect(inArea(grid.code, grid)).toBe(true)
    expect(inArea(sibling.code, grid)).toBe(false)
    expect(inArea('340303001001001', district)).toBe(false)
    expect(inArea('340402001001001', city)).toBe(false)
  })

  it('treats no area as everything and no code as nowhere', () => {
    expect(inArea('340302001002003', undefined)).toBe(true)
    expect(inArea(null, city)).toBe(false)
    expect(inArea('', city)).toBe(false)
  })
})

describe('what the map draws', () => {
  it('draws the children, or a grid among its siblings', () => {
    expect(mapQuery(city, null)).toEqual({ level: 'district', parentCode: '340300' })
    expect(mapQuery(community, null)).toEqual({ level: 'grid', parentCode: community.code })
    expect(mapQuery(grid, communityOfGrid(grid.code))).toEqual({ level: 'grid', parentCode: community.code })
    expect(mapQuery(grid, null)).toBeNull()
    expect(communityOfGrid('340302')).toBeNull()
  })
})

describe('short names', () => {
  it('drop the committees suffixes', () => {
    expect(shortName('汪街村村民委员会')).toBe('汪街村')
    expect(shortName('汪街村民委员会')).toBe('汪街村')
    expect(shortName('喻义巷社区居民委员会')).toBe('喻义巷社区')
    expect(shortName('东风居民委员会')).toBe('东风社区')
    expect(shortName('东风居委会')).toBe('东风社区')
    expect(shortName('龙子湖区')).toBe('龙子湖区')
    expect(shortName('山后村第2网格')).toBe('山后村第2网格')
    expect(shortName('村民委员会')).toBe('村民委员会')
  })
})

describe('child names', () => {
  it('drop the parent name in front', () => {
    expect(childName('喻义巷社区第6网格', '喻义巷社区居民委员会')).toBe('第6网格')
    expect(childName('汪街村第2网格', '汪街村村民委员会')).toBe('第2网格')
    expect(childName('东风街道', '蚌山区')).toBe('东风街道')
    expect(childName('喻义巷社区', '喻义巷社区')).toBe('喻义巷社区')
    expect(childName('汪街村村民委员会', null)).toBe('汪街村')
  })
})
