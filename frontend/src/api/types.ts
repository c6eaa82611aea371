/**
 * Named shapes of the API, derived from the generated `paths` by endpoint (not by schema component
 * name), so regenerating `schema.d.ts` from the back end's real OpenAPI document keeps these stable.
 */
import type { paths } from './schema'

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

export type TokenOut = Ok<paths['/api/v1/auth/login']['post']>
export type Me = Ok<paths['/api/v1/auth/me']['get']>
export type Role = Ok<paths['/api/v1/auth/roles']['get']>[number]
export type Meta = Ok<paths['/api/v1/meta']['get']>

export type DivisionPage = Ok<paths['/api/v1/geo/divisions']['get']>
export type Division = DivisionPage['items'][number]
export type DivisionDetail = Ok<paths['/api/v1/geo/divisions/{code}']['get']>
export type DivisionSummary = Ok<paths['/api/v1/geo/summary/{code}']['get']>
export type Staff = NonNullable<DivisionDetail['grid_worker']>

/** Levels the map draws (`level` of `/geo/boundaries` below the city). */
export type BoundaryLevel = 'district' | 'street' | 'community' | 'grid'

export type BoundaryCollection = Ok<paths['/api/v1/geo/boundaries']['get']>
export type BoundaryFeature = BoundaryCollection['features'][number]
export type BoundaryProperties = BoundaryFeature['properties']

export type UserPage = Ok<paths['/api/v1/users']['get']>
export type User = UserPage['items'][number]
export type UserCreate = Body<paths['/api/v1/users']['post']>
export type UserPatch = Body<paths['/api/v1/users/{user_id}']['patch']>

export type AuditPage = Ok<paths['/api/v1/audit/records']['get']>
export type AuditRecord = AuditPage['items'][number]
export type AuditQuery = Query<paths['/api/v1/audit/records']['get']>
export type AuditVerify = Ok<paths['/api/v1/audit/verify']['get']>

export type UnitPage = Ok<paths['/api/v1/org/units']['get']>
export type Unit = UnitPage['items'][number]

export type Level = 'city' | 'district' | 'street' | 'community' | 'grid'
export const LEVELS: readonly Level[] = ['city', 'district', 'street', 'community', 'grid']

// -- registry -------------------------------------------------------------------------------------------
export type CodeEntry = Ok<paths['/api/v1/registry/codes']['get']>[number]

export type PersonPage = Ok<paths['/api/v1/registry/people']['get']>
export type Person = PersonPage['items'][number]
export type PersonQuery = Query<paths['/api/v1/registry/people']['get']>
export type PersonDetail = Ok<paths['/api/v1/registry/people/{person_id}']['get']>
export type PersonCreate = Body<paths['/api/v1/registry/people']['post']>
export type PersonUpdate = Body<paths['/api/v1/registry/people/{person_id}']['patch']>
export type PersonRevealed = Ok<paths['/api/v1/registry/people/{person_id}/reveal']['post']>
export type Residence = Ok<paths['/api/v1/registry/people/{person_id}/residences']['get']>[number]
export type DeregisterBody = Body<paths['/api/v1/registry/people/{person_id}/deregister']['post']>

export type HousePage = Ok<paths['/api/v1/registry/houses']['get']>
export type House = HousePage['items'][number]
export type HouseQuery = Query<paths['/api/v1/registry/houses']['get']>
export type HouseCreate = Body<paths['/api/v1/registry/houses']['post']>
export type HouseUpdate = Body<paths['/api/v1/registry/houses/{house_id}']['patch']>
export type HouseMap = Ok<paths['/api/v1/registry/houses/map']['get']>
export type Tenancy = Ok<paths['/api/v1/registry/houses/{house_id}/tenancies']['get']>[number]

export type CarePage = Ok<paths['/api/v1/registry/care']['get']>
export type Care = CarePage['items'][number]
export type CareQuery = Query<paths['/api/v1/registry/care']['get']>
export type CareDetail = Ok<paths['/api/v1/registry/care/{care_id}']['get']>
export type Visit = Ok<paths['/api/v1/registry/care/{care_id}/visits']['get']>[number]
export type VisitCreate = Body<paths['/api/v1/registry/care/{care_id}/visits']['post']>
export type OverdueGrid = Ok<paths['/api/v1/registry/care/overdue-by-grid']['get']>[number]

export type Organisation = Ok<paths['/api/v1/registry/organisations']['get']>['items'][number]
export type OrganisationCreate = Body<paths['/api/v1/registry/organisations']['post']>
export type Place = Ok<paths['/api/v1/registry/places']['get']>['items'][number]
export type PlaceCreate = Body<paths['/api/v1/registry/places']['post']>
export type School = Ok<paths['/api/v1/registry/schools']['get']>['items'][number]
export type SchoolCreate = Body<paths['/api/v1/registry/schools']['post']>

export type Household = Ok<paths['/api/v1/registry/households/{household_id}']['get']>
export type HouseholdCreate = Body<paths['/api/v1/registry/households']['post']>

// -- import and export ----------------------------------------------------------------------------------
export type ImportFieldInfo = Ok<paths['/api/v1/registry/import-fields']['get']>[number]
export type ImportMapping = Ok<paths['/api/v1/registry/import-mappings']['get']>[number]
export type ImportQuery = Query<paths['/api/v1/registry/imports/{entity}']['post']>
export type Job = Ok<paths['/api/v1/jobs/{job_id}']['get']>
export type PeopleExportQuery = Query<paths['/api/v1/registry/exports/people']['get']>
export type HousesExportQuery = Query<paths['/api/v1/registry/exports/houses']['get']>
export type ExportFormat = NonNullable<PeopleExportQuery['format']>
