/**
 * The API calls of the big screen, through the generated client (shapes derived from `paths`, never written
 * by hand). Every call takes the area shown; the server limits it to the caller's scope.
 */
import { api, unwrap } from '@/api/client'
import type { paths } from '@/api/schema'
import type { BoundaryCollection, BoundaryLevel } from '@/api/types'
import type { CasePage } from '@/modules/cases/types'
import { DETAIL_ZOOM } from '@/lib/levels'
import { isThresholds, type BandThresholds } from '@/modules/safety/bands'
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

/**
 * How far back the live feeds start: a week. The lists count what they match, and counting every case and
 * call of a city (millions) for each screen that opens costs far more than the page itself.
 */
export const FEED_DAYS = 7

export function feedSince(now: Date = new Date()): string {
  return new Date(now.getTime() - FEED_DAYS * 86_400_000).toISOString()
}

/** The newest cases reported in the area (in the last week). */
export function latestCases(area: AreaStep, pageSize = 20): Promise<CasePage> {
  const filter = AREA_FILTER[area.level]
  return unwrap(
    api.GET('/api/v1/cases', {
      params: {
        query: { sort: '-reported_at', page_size: pageSize, since: feedSince(), ...(filter ? { [filter]: area.code } : {}) },
      },
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

// -- the safety module: index, warnings, police calls ------------------------------------------------------

export type PeriodType = 'day' | 'week' | 'month'
export type IndexList = Ok<paths['/api/v1/safety/index']['get']>
export type IndexTrend = Ok<paths['/api/v1/safety/index/{area_code}/trend']['get']>
export type WarningPage = Ok<paths['/api/v1/safety/warnings']['get']>
export type Warning = WarningPage['items'][number]
export type IncidentPage = Ok<paths['/api/v1/safety/incidents']['get']>
export type SafetyCategory = Ok<paths['/api/v1/safety/categories']['get']>[number]

/** The index of the areas of `level` under `parent` for the newest period of `period` with scores. */
export function indexScores(level: BoundaryLevel, parent: string, period: PeriodType): Promise<IndexList> {
  return unwrap(api.GET('/api/v1/safety/index', { params: { query: { level, parent, period } } }))
}

/** How many periods the index trend shows: a month of days, a quarter of weeks, a year of months. */
export const TREND_PERIODS: Readonly<Record<PeriodType, number>> = { day: 30, week: 13, month: 12 }

export function indexTrend(area: AreaStep, period: PeriodType): Promise<IndexTrend> {
  return unwrap(
    api.GET('/api/v1/safety/index/{area_code}/trend', {
      params: { path: { area_code: area.code }, query: { period, count: TREND_PERIODS[period] } },
    }),
  )
}

/** The open warnings of the area (and inside it), newest first. */
export function openWarnings(area: AreaStep, pageSize = 50): Promise<WarningPage> {
  return unwrap(
    api.GET('/api/v1/safety/warnings', {
      params: { query: { area_code: area.code, status: 'open', page_size: pageSize } },
    }),
  )
}

/** The newest police calls and incidents of the area (in the last week). */
export function latestIncidents(area: AreaStep, pageSize = 20): Promise<IncidentPage> {
  return unwrap(
    api.GET('/api/v1/safety/incidents', {
      params: { query: { area_code: area.code, page_size: pageSize, since: feedSince() } },
    }),
  )
}

let safetyCategories: Promise<SafetyCategory[]> | null = null

/** The incident categories (two levels), fetched once per page load. */
export function loadSafetyCategories(): Promise<SafetyCategory[]> {
  safetyCategories ??= unwrap(api.GET('/api/v1/safety/categories')).catch((error: unknown) => {
    safetyCategories = null
    throw error
  })
  return safetyCategories
}

/** The index's default bands (safety/index_config.py `Bands`), used until the active configuration is read. */
export const DEFAULT_BANDS: BandThresholds = { green: 90, yellow: 80, orange: 70 }

/** The bands of the active index configuration (the defaults when it cannot be read or sets none). */
export async function activeBands(): Promise<BandThresholds> {
  const page = await unwrap(api.GET('/api/v1/safety/index-configs', { params: { query: { page_size: 100 } } }))
  const bands = page.items.find((c) => c.active)?.definition.bands
  return isThresholds(bands) ? bands : DEFAULT_BANDS
}

export type WarningDetail = Ok<paths['/api/v1/safety/warnings/{warning_id}']['get']>

/** One warning with its evidence and contributing records. */
export function warningDetail(id: number): Promise<WarningDetail> {
  return unwrap(api.GET('/api/v1/safety/warnings/{warning_id}', { params: { path: { warning_id: id } } }))
}
