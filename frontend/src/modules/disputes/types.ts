/** Named shapes of the disputes API, derived from the generated `paths` (as in '@/api/types'). */
import type { paths } from '@/api/schema'

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never
type Ok<Op> = Op extends { responses: infer Rs }
  ? Rs extends { 200: infer R }
    ? Json<R>
    : Rs extends { 201: infer R }
      ? Json<R>
      : never
  : never
type Body<Op> = Op extends { requestBody?: infer B } ? Json<NonNullable<B>> : never
type Query<Op> = Op extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never

export type DisputeCategory = Ok<paths['/api/v1/disputes/categories']['get']>[number]
export type DisputePage = Ok<paths['/api/v1/disputes']['get']>
export type DisputeRow = DisputePage['items'][number]
export type DisputeQuery = Query<paths['/api/v1/disputes']['get']>
export type DisputeDetail = Ok<paths['/api/v1/disputes/{dispute_id}']['get']>
export type DisputeCreate = Body<paths['/api/v1/disputes']['post']>
export type PartyIn = Body<paths['/api/v1/disputes/{dispute_id}/parties']['post']>
export type MediationIn = Body<paths['/api/v1/disputes/{dispute_id}/mediations']['post']>
export type OutcomeIn = Body<paths['/api/v1/disputes/{dispute_id}/outcome']['post']>
export type Desk = Ok<paths['/api/v1/disputes/desk']['get']>
export type CaseCategory = Ok<paths['/api/v1/cases/categories']['get']>[number]

export const SCALES = ['general', 'large', 'major', 'especially_major'] as const
export const OUTCOMES = ['pending', 'resolved', 'partly', 'failed'] as const
export const ROLES = ['applicant', 'respondent', 'other'] as const
export const METHODS = ['people', 'administrative', 'judicial', 'litigation', 'police', 'petition', 'lawyer', 'other'] as const
