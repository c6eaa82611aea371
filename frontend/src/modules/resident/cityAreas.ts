/**
 * The city's areas for the resident's map (`GET /api/v1/public/map/areas`, public): the city outline and
 * its districts, code and name only, and which of them a pin falls in — worked out on the phone with the
 * shared point-in-polygon of `@/lib/geometry`, since the signed-in point lookup is not public.
 */
import type { FeatureCollection } from 'geojson'
import { api, unwrap } from '@/api/client'
import type { paths } from '@/api/schema'
import { bbox, containsPoint, type BBox } from '@/lib/geometry'
import type { Pin } from './residentApi'

export type PublicAreas = paths['/api/v1/public/map/areas']['get']['responses'][200]['content']['application/json']
export type AreaFeature = PublicAreas['features'][number]

export interface CityAreas {
  /** The city outlines. */
  outline: AreaFeature[]
  /** The districts. */
  areas: AreaFeature[]
  /** [minLon, minLat, maxLon, maxLat] of the outlines, or null when the map has none. */
  bounds: BBox | null
}

/** Where a pin is: in a named area, in the city between areas, outside the city, or unknown (no map). */
export type PinPlace =
  | { kind: 'area'; code: string; name: string }
  | { kind: 'city' }
  | { kind: 'outside'; city: string }
  | { kind: 'unknown' }

export function splitAreas(collection: PublicAreas): CityAreas {
  const cities = new Set(collection.city_codes)
  const outline = collection.features.filter((f) => cities.has(f.properties.code))
  const areas = collection.features.filter((f) => !cities.has(f.properties.code))
  let bounds: BBox | null = null
  for (const feature of outline) {
    const box = bbox(feature.geometry)
    if (!box) continue
    bounds = bounds
      ? [Math.min(bounds[0], box[0]), Math.min(bounds[1], box[1]), Math.max(bounds[2], box[2]), Math.max(bounds[3], box[3])]
      : box
  }
  return { outline, areas, bounds }
}

let loading: Promise<CityAreas> | null = null

/** The districts and the city outline, fetched once per page load (the browser caches it for an hour). */
export function loadCityAreas(): Promise<CityAreas> {
  loading ??= unwrap(api.GET('/api/v1/public/map/areas', { params: { query: { level: 'district' } } }))
    .then(splitAreas)
    .catch((e: unknown) => {
      loading = null // try again next time
      throw e
    })
  return loading
}

/** The area a pin falls in; a city with no boundaries stored says nothing ('unknown'), so it never blocks. */
export function placeOf(pin: Pin, city: CityAreas | null): PinPlace {
  if (!city || city.outline.length === 0) return { kind: 'unknown' }
  const area = city.areas.find((f) => containsPoint(f.geometry, pin.lon, pin.lat))
  if (area) return { kind: 'area', code: area.properties.code, name: area.properties.name }
  // Both are simplified on their own: a pin on a border may fall in a sliver of one but not the other.
  if (city.outline.some((f) => containsPoint(f.geometry, pin.lon, pin.lat))) return { kind: 'city' }
  return { kind: 'outside', city: city.outline.map((f) => f.properties.name).join('、') }
}

export function asCollection(features: AreaFeature[]): FeatureCollection {
  return { type: 'FeatureCollection', features: features as FeatureCollection['features'] }
}
