/** The safety API as the desktop pages call it (the generated client; shapes in ./types). */
import { api, unwrap } from '@/api/client'
import { isThresholds, type BandThresholds } from './bands'
import type { PeriodType } from './periods'
import type { Job } from '@/api/types'
import type {
  FeedField,
  FeedMapping,
  FeedMappingBody,
  HotspotCollection,
  HotspotMethod,
  HotspotQuery,
  IndexActivation,
  IndexConfig,
  IndexConfigBody,
  IndexExplanation,
  IndexList,
  IndexQuery,
  IndexRow,
  IndexTrend,
  ImportMode,
  IncidentPage,
  IncidentQuery,
  SafetyCategory,
  ToCaseOut,
  WarningDetail,
  WarningPage,
  WarningQuery,
  WarningRule,
  WarningRuleBody,
} from './types'

export function listIndex(query: IndexQuery): Promise<IndexList> {
  return unwrap(api.GET('/api/v1/safety/index', { params: { query } }))
}

export function explainIndex(areaCode: string, period: PeriodType, date: string): Promise<IndexExplanation> {
  return unwrap(api.GET('/api/v1/safety/index/{area_code}', { params: { path: { area_code: areaCode }, query: { period, date } } }))
}

export function indexTrend(areaCode: string, period: PeriodType, date: string, count = 12): Promise<IndexTrend> {
  return unwrap(
    api.GET('/api/v1/safety/index/{area_code}/trend', { params: { path: { area_code: areaCode }, query: { period, date, count } } }),
  )
}

export interface IndexRules {
  bands: BandThresholds | null
  escalation: { notice: number; interview: number } | null
  perResidents: number
}

/** The active configuration's bands and escalation (what the legend and the red streaks are read against). */
export async function activeRules(): Promise<IndexRules> {
  const page = await unwrap(api.GET('/api/v1/safety/index-configs', { params: { query: { page_size: 100 } } }))
  const active: IndexConfig | undefined = page.items.find((c) => c.active)
  const definition = (active?.definition ?? {}) as Record<string, unknown>
  const escalation = definition.escalation as Record<string, unknown> | undefined
  return {
    bands: isThresholds(definition.bands) ? definition.bands : null,
    escalation:
      escalation && typeof escalation.notice === 'number' && typeof escalation.interview === 'number'
        ? { notice: escalation.notice, interview: escalation.interview }
        : null,
    perResidents: typeof definition.per_residents === 'number' ? definition.per_residents : 10_000,
  }
}

/** Incidents per 10,000 residents (null without residents). */
export function perTenThousand(row: Pick<IndexRow, 'events' | 'population'>, per = 10_000): number | null {
  return row.population ? (row.events / row.population) * per : null
}

export async function hotspots(query: HotspotQuery): Promise<HotspotCollection> {
  // The route also offers application/geo+json, so the client leaves the body untyped; it is this JSON.
  return (await unwrap(api.GET('/api/v1/safety/hotspots', { params: { query } }))) as HotspotCollection
}

export function hotspotMethods(): Promise<HotspotMethod[]> {
  return unwrap(api.GET('/api/v1/safety/hotspots/methods'))
}

// -- feeds ------------------------------------------------------------------------------------------------

let categoryTree: Promise<SafetyCategory[]> | null = null

/** The incident categories (classes with their leaves), fetched once per page load. */
export function loadSafetyCategories(): Promise<SafetyCategory[]> {
  categoryTree ??= unwrap(api.GET('/api/v1/safety/categories')).catch((error: unknown) => {
    categoryTree = null
    throw error
  })
  return categoryTree
}

export function feedFields(): Promise<FeedField[]> {
  return unwrap(api.GET('/api/v1/safety/feed-fields'))
}

export function feedMappings(): Promise<FeedMapping[]> {
  return unwrap(api.GET('/api/v1/safety/feed-mappings'))
}

export function saveFeedMapping(id: number | null, body: FeedMappingBody): Promise<FeedMapping> {
  return id === null
    ? unwrap(api.POST('/api/v1/safety/feed-mappings', { body }))
    : unwrap(api.PUT('/api/v1/safety/feed-mappings/{mapping_id}', { params: { path: { mapping_id: id } }, body }))
}

export async function deleteFeedMapping(id: number): Promise<void> {
  await unwrap(api.DELETE('/api/v1/safety/feed-mappings/{mapping_id}', { params: { path: { mapping_id: id } } }))
}

/** Upload a feed file as multipart/form-data; answers the queued job. */
export function startFeedImport(file: File, mappingId: number, mode: ImportMode): Promise<Job> {
  const form = new FormData()
  form.append('file', file, file.name)
  return unwrap(
    api.POST('/api/v1/safety/imports', {
      params: { query: { mapping_id: mappingId, mode, filename: file.name } },
      // openapi-fetch sends a FormData body as it is.
      body: form as unknown as { file: string },
    }),
  )
}

export function listIncidents(query: IncidentQuery): Promise<IncidentPage> {
  return unwrap(api.GET('/api/v1/safety/incidents', { params: { query } }))
}

// -- warnings ---------------------------------------------------------------------------------------------

export function listWarnings(query: WarningQuery): Promise<WarningPage> {
  return unwrap(api.GET('/api/v1/safety/warnings', { params: { query } }))
}

export function getWarning(id: number): Promise<WarningDetail> {
  return unwrap(api.GET('/api/v1/safety/warnings/{warning_id}', { params: { path: { warning_id: id } } }))
}

export function acknowledgeWarning(id: number): Promise<WarningDetail> {
  return unwrap(api.POST('/api/v1/safety/warnings/{warning_id}/acknowledge', { params: { path: { warning_id: id } } }))
}

/** Report the case pre-filled from the warning (nothing overridden) and link it. */
export function warningToCase(id: number): Promise<ToCaseOut> {
  return unwrap(api.POST('/api/v1/safety/warnings/{warning_id}/to-case', { params: { path: { warning_id: id } }, body: {} }))
}

export function closeWarning(id: number, note: string): Promise<WarningDetail> {
  return unwrap(api.POST('/api/v1/safety/warnings/{warning_id}/close', { params: { path: { warning_id: id } }, body: { note } }))
}

// -- index configurations (safety:admin) ------------------------------------------------------------------

export async function indexConfigs(): Promise<IndexConfig[]> {
  return (await unwrap(api.GET('/api/v1/safety/index-configs', { params: { query: { page_size: 100 } } }))).items
}

export function createIndexConfig(body: IndexConfigBody): Promise<IndexConfig> {
  return unwrap(api.POST('/api/v1/safety/index-configs', { body }))
}

export function activateIndexConfig(id: number): Promise<IndexActivation> {
  return unwrap(api.POST('/api/v1/safety/index-configs/{config_id}/activate', { params: { path: { config_id: id } } }))
}

export function getJob(id: number): Promise<Job> {
  return unwrap(api.GET('/api/v1/jobs/{job_id}', { params: { path: { job_id: id } } }))
}

// -- warning rules (kept by safety:admin) -----------------------------------------------------------------

export async function warningRules(): Promise<WarningRule[]> {
  return (await unwrap(api.GET('/api/v1/safety/warning-rules', { params: { query: { page_size: 200 } } }))).items
}

export function saveWarningRule(id: number | null, body: WarningRuleBody): Promise<WarningRule> {
  return id === null
    ? unwrap(api.POST('/api/v1/safety/warning-rules', { body }))
    : unwrap(api.PUT('/api/v1/safety/warning-rules/{rule_id}', { params: { path: { rule_id: id } }, body }))
}

export async function deleteWarningRule(id: number): Promise<void> {
  await unwrap(api.DELETE('/api/v1/safety/warning-rules/{rule_id}', { params: { path: { rule_id: id } } }))
}
