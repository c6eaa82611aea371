/** Reading one division for the panels: its detail, bounding box, centre and grid staff. */
import { api, unwrap } from '@/api/client'
import type { DivisionDetail, Staff } from '@/api/types'
import type { BBox } from '@/lib/geometry'

type Extent = Pick<DivisionDetail, 'min_lon' | 'min_lat' | 'max_lon' | 'max_lat'>
type Centre = Pick<DivisionDetail, 'centroid_lon' | 'centroid_lat'>

export function divisionBBox(d: Extent): BBox | null {
  const { min_lon, min_lat, max_lon, max_lat } = d
  if (min_lon === null || min_lat === null || max_lon === null || max_lat === null) return null
  return [min_lon, min_lat, max_lon, max_lat]
}

export function divisionCentre(d: Centre): [number, number] | null {
  return d.centroid_lon === null || d.centroid_lat === null ? null : [d.centroid_lon, d.centroid_lat]
}

export interface DivisionView {
  detail: DivisionDetail
  /** the grid's worker (grids only) */
  worker: Staff | null
  /**
   * the grid leader (网格长) of a community, or of the community a grid belongs to; `undefined` when it
   * cannot be known (the community is outside the user's scope)
   */
  leader: Staff | null | undefined
}

export function getDivision(code: string): Promise<DivisionDetail> {
  return unwrap(api.GET('/api/v1/geo/divisions/{code}', { params: { path: { code } } }))
}

/**
 * The detail plus the staff shown with it. The server names the grid leader on the community, so for a
 * grid the community is read too (if the user may see it; a grid worker's scope may end at the grid).
 */
export async function getDivisionView(code: string): Promise<DivisionView> {
  const detail = await getDivision(code)
  let leader: Staff | null | undefined = detail.grid_leader ?? null
  if (detail.level === 'grid') {
    leader = detail.parent_code
      ? await getDivision(detail.parent_code)
          .then((community) => community.grid_leader ?? null)
          .catch(() => undefined)
      : undefined
  }
  return { detail, worker: detail.grid_worker ?? null, leader }
}
