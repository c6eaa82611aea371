/** Shapes of the safety API used by the desktop pages, derived from the generated paths (never hand-written). */
import type { paths } from '@/api/schema'

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never
type Ok<Op> = Op extends { responses: infer Rs }
  ? Rs extends { 200: infer R }
    ? Json<R>
    : Rs extends { 201: infer R }
      ? Json<R>
      : never
  : never
type Query<Op> = Op extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never

// -- index ------------------------------------------------------------------------------------------------
export type IndexList = Ok<paths['/api/v1/safety/index']['get']>
export type IndexRow = IndexList['areas'][number]
export type IndexQuery = Query<paths['/api/v1/safety/index']['get']>
export type IndexExplanation = Ok<paths['/api/v1/safety/index/{area_code}']['get']>
export type IndexComponent = IndexExplanation['components'][number]
export type IndexBaseline = IndexComponent['baselines'][string]
export type IndexTrend = Ok<paths['/api/v1/safety/index/{area_code}/trend']['get']>
export type IndexConfigPage = Ok<paths['/api/v1/safety/index-configs']['get']>
export type IndexConfig = IndexConfigPage['items'][number]

// -- hotspots ---------------------------------------------------------------------------------------------
export type HotspotCollection = Ok<paths['/api/v1/safety/hotspots']['get']>
export type HotspotFeature = HotspotCollection['features'][number]
export type HotspotMeta = HotspotCollection['meta']
export type HotspotQuery = Query<paths['/api/v1/safety/hotspots']['get']>
export type HotspotMethod = Ok<paths['/api/v1/safety/hotspots/methods']['get']>[number]

// -- feeds ------------------------------------------------------------------------------------------------
type Body<Op> = Op extends { requestBody?: infer B } ? Json<NonNullable<B>> : never
export type SafetyCategory = Ok<paths['/api/v1/safety/categories']['get']>[number]
export type FeedField = Ok<paths['/api/v1/safety/feed-fields']['get']>[number]
export type FeedMapping = Ok<paths['/api/v1/safety/feed-mappings']['get']>[number]
export type FeedMappingBody = Body<paths['/api/v1/safety/feed-mappings']['post']>
export type FeedSource = FeedMappingBody['source']
export type UnknownPolicy = NonNullable<FeedMappingBody['unknown_category']>
export type IncidentPage = Ok<paths['/api/v1/safety/incidents']['get']>
export type Incident = IncidentPage['items'][number]
export type IncidentQuery = Query<paths['/api/v1/safety/incidents']['get']>
export type ImportMode = NonNullable<NonNullable<Query<paths['/api/v1/safety/imports']['post']>['mode']>>

// -- warnings ---------------------------------------------------------------------------------------------
export type WarningPage = Ok<paths['/api/v1/safety/warnings']['get']>
export type WarningRow = WarningPage['items'][number]
export type WarningQuery = Query<paths['/api/v1/safety/warnings']['get']>
export type WarningDetail = Ok<paths['/api/v1/safety/warnings/{warning_id}']['get']>
export type WarningRecord = NonNullable<WarningDetail['records']>[number]
export type ToCaseOut = Ok<paths['/api/v1/safety/warnings/{warning_id}/to-case']['post']>
export type IndexConfigBody = Body<paths['/api/v1/safety/index-configs']['post']>
export type IndexActivation = Ok<paths['/api/v1/safety/index-configs/{config_id}/activate']['post']>
export type WarningRulePage = Ok<paths['/api/v1/safety/warning-rules']['get']>
export type WarningRule = WarningRulePage['items'][number]
export type WarningRuleBody = Body<paths['/api/v1/safety/warning-rules']['post']>
