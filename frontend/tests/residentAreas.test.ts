import { describe, expect, it } from 'vitest'
import { placeOf, splitAreas, type PublicAreas } from '@/modules/resident/cityAreas'

const box = (x0: number, y0: number, x1: number, y1: number) => ({
  type: 'Polygon' as const,
  coordinates: [
    [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
      [x0, y0],
    ],
  ],
})

const feature = (code: string, name: string, geometry: ReturnType<typeof box>) => ({ type: 'Feature' as const, id: code, properties: { code, name }, geometry })

// The city [117, 32]–[118, 33]; two districts cover its west part only, leaving a strip between them.
const collection: PublicAreas = {
  type: 'FeatureCollection',
  level: 'district',
  city_codes: ['340300'],
  features: [
    feature('340300', '蚌埠市', box(117, 32, 118, 33)),
    feature('340303', '蚌山区', box(117, 32, 117.5, 33)),
    feature('340304', '禹会区', box(117.6, 32, 118, 33)),
  ],
}

describe('the city areas of the resident map', () => {
  it('splits the outline from the districts and frames the city', () => {
    const city = splitAreas(collection)
    expect(city.outline.map((f) => f.properties.code)).toEqual(['340300'])
    expect(city.areas.map((f) => f.properties.code)).toEqual(['340303', '340304'])
    expect(city.bounds).toEqual([117, 32, 118, 33])
  })

  it('names the district of a pin', () => {
    const city = splitAreas(collection)
    expect(placeOf({ lon: 117.2, lat: 32.5 }, city)).toEqual({ kind: 'area', code: '340303', name: '蚌山区' })
    expect(placeOf({ lon: 117.9, lat: 32.1 }, city)).toEqual({ kind: 'area', code: '340304', name: '禹会区' })
  })

  it('tells a pin between districts from one outside the city', () => {
    const city = splitAreas(collection)
    expect(placeOf({ lon: 117.55, lat: 32.5 }, city)).toEqual({ kind: 'city' })
    expect(placeOf({ lon: 116.5, lat: 32.5 }, city)).toEqual({ kind: 'outside', city: '蚌埠市' })
  })

  it('says nothing without a map, so that nothing is blocked', () => {
    expect(placeOf({ lon: 116.5, lat: 32.5 }, null)).toEqual({ kind: 'unknown' })
    const empty = splitAreas({ type: 'FeatureCollection', level: 'district', city_codes: [], features: [] })
    expect(empty.bounds).toBeNull()
    expect(placeOf({ lon: 116.5, lat: 32.5 }, empty)).toEqual({ kind: 'unknown' })
  })
})
