/**
 * Communities and grids a user may pick, limited to the user's scope: a grid worker has one grid, community
 * staff the grids of one community, higher levels the communities below their node (searched by name).
 */
import { api, unwrap } from '@/api/client'
import type { Division } from '@/api/types'

export type ScopeLevel = 'city' | 'district' | 'street' | 'community' | 'grid'

export interface AreaScope {
  level: ScopeLevel
  code: string
}

/** Which pickers a scope needs: fixed ones show the scope and cannot change. */
export function pickerModes(scope: AreaScope): { community: 'fixed' | 'pick'; grid: 'fixed' | 'pick' } {
  if (scope.level === 'grid') return { community: 'fixed', grid: 'fixed' }
  if (scope.level === 'community') return { community: 'fixed', grid: 'pick' }
  return { community: 'pick', grid: 'pick' }
}

/** The community code of a grid code (community code + 3 digits) or a community code itself. */
export function communityOf(code: string): string {
  return code.length === 15 ? code.slice(0, 12) : code
}

/** Communities in scope whose name contains `q` (or the first ones when `q` is empty). */
export async function searchCommunities(scope: AreaScope, q: string): Promise<Division[]> {
  const text = q.trim()
  const page = await unwrap(
    api.GET('/api/v1/geo/divisions', {
      params: { query: { level: 'community', q: text || (scope.level === 'city' ? undefined : scope.code), page_size: 50 } },
    }),
  )
  return page.items.filter((d) => scope.level === 'city' || d.code.startsWith(scope.code))
}

export async function gridsOf(communityCode: string): Promise<Division[]> {
  const page = await unwrap(
    api.GET('/api/v1/geo/divisions/{code}/children', { params: { path: { code: communityCode }, query: { page_size: 200 } } }),
  )
  return page.items
}
