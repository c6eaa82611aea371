/**
 * The API calls of the big screen, through the generated client (shapes derived from `paths`, never written
 * by hand). Every call takes the area shown; the server limits it to the caller's scope.
 */
import { api, unwrap } from '@/api/client'
import type { paths } from '@/api/schema'
import type { BoundaryCollection, BoundaryLevel } from '@/api/types'
import type { CasePage } from '@/modules/cases/types'
import { DETAIL_ZOOM } from '@/lib/levels'
import type { AreaStep } from './drill'

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never
type Ok<Op> = Op extends { responses: { 200: infer R } } ? Json<R> : never

export type Overview = Ok<paths['/api/v1/command/overview']['get']>
export type Trend = Ok<paths['/api/v1/command/trend']['get']>
export type TrendDay = Trend['days'][number]
export type Ranking = Ok<paths['/api/v1/command/ranking']['get']>
export type UnitRank = Ranking['units'][number]
export type AreaRank = Ranking['areas'][number]
export type Positions = Ok<paths['/api/v1/command/positions']['get']>

export function overview(area: AreaStep): Promise<Overview> {
  return unwrap(api.GET('/api/v1/command/overview', { params: { query: { area_code: area.code } } }))
}

/** Per day of the last `days` (today included): cases reported and closed, police calls per indicator. */
export function trend(area: AreaStep, days = 30): Promise<Trend> {
  return unwrap(api.GET('/api/v1/command/trend', { params: { query: { area_code: area.code, days } } }))
}

export function ranking(area: AreaStep, by: 'units' | 'areas', days = 30): Promise<Ranking> {
  return unwrap(api.GET('/api/v1/command/ranking', { params: { query: { area_code: area.code, by, days } } }))
}

export function positions(area: AreaStep): Promise<Positions> {
  return unwrap(api.GET('/api/v1/command/positions', { params: { query: { area_code: area.code } } }))
}

const AREA_FILTER: Record<AreaStep['level'], 'district_code' | 'street_code' | 'community_code' | 'grid_code' | null> = {
  city: null,
  district: 'district_code',
  street: 'street_code',
  community: 'community_code',
  grid: 'grid_code',
}

/** The newest cases reported in the area. */
export function latestCases(area: AreaStep, pageSize = 20): Promise<CasePage> {
  const filter = AREA_FILTER[area.level]
  return unwrap(
    api.GET('/api/v1/cases', {
      params: { query: { sort: '-reported_at', page_size: pageSize, ...(filter ? { [filter]: area.code } : {}) } },
    }),
  )
}

/** The boundaries of one level under a parent, simplified for the closest view of that level. */
export async function boundaries(level: BoundaryLevel | 'city', parentCode: string | null): Promise<BoundaryCollection> {
  const zoom = level === 'city' ? 9 : DETAIL_ZOOM[level]
  const collection = await unwrap(
    api.GET('/api/v1/geo/boundaries', {
      params: { query: { level, zoom, ...(parentCode ? { parent_code: parentCode } : {}) } },
    }),
  )
  // The OpenAPI document leaves features open; their properties follow BoundaryProperties.
  return collection as unknown as BoundaryCollection
}
