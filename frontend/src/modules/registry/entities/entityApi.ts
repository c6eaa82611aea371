/** The three entity endpoints behind one interface (each call typed by its own generated path). */
import { api, unwrap } from '@/api/client'
import type { EntityKind } from './entityConfig'

export type EntityRow = { id: number; name: string; grid_code: string; community_code: string } & Record<string, unknown>

export interface EntityQuery {
  page: number
  page_size: number
  q?: string
  grid_code?: string
  community_code?: string
  type_code?: string
}

type Body = Record<string, unknown>

export async function listEntities(kind: EntityKind, query: EntityQuery): Promise<{ items: EntityRow[]; total: number }> {
  const params = { query }
  const page =
    kind === 'organisations'
      ? await unwrap(api.GET('/api/v1/registry/organisations', { params }))
      : kind === 'places'
        ? await unwrap(api.GET('/api/v1/registry/places', { params }))
        : await unwrap(api.GET('/api/v1/registry/schools', { params }))
  return page as unknown as { items: EntityRow[]; total: number }
}

export async function createEntity(kind: EntityKind, body: Body): Promise<EntityRow> {
  const made =
    kind === 'organisations'
      ? await unwrap(api.POST('/api/v1/registry/organisations', { body: body as never }))
      : kind === 'places'
        ? await unwrap(api.POST('/api/v1/registry/places', { body: body as never }))
        : await unwrap(api.POST('/api/v1/registry/schools', { body: body as never }))
  return made as unknown as EntityRow
}

export async function updateEntity(kind: EntityKind, id: number, body: Body): Promise<EntityRow> {
  const params = { path: { obj_id: id } }
  const saved =
    kind === 'organisations'
      ? await unwrap(api.PATCH('/api/v1/registry/organisations/{obj_id}', { params, body: body as never }))
      : kind === 'places'
        ? await unwrap(api.PATCH('/api/v1/registry/places/{obj_id}', { params, body: body as never }))
        : await unwrap(api.PATCH('/api/v1/registry/schools/{obj_id}', { params, body: body as never }))
  return saved as unknown as EntityRow
}
