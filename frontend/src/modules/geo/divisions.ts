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
  /** the grid leader (网格长) of a community, or of the community a grid belongs to */
  leader: Staff | null
}

export function getDivision(code: string): Promise<DivisionDetail> {
  return unwrap(api.GET('/api/v1/geo/divisions/{code}', { params: { path: { code } } }))
}

/** The detail plus the staff shown with it (the server names a grid's worker and its community's leader). */
export async function getDivisionView(code: string): Promise<DivisionView> {
  const detail = await getDivision(code)
  return { detail, worker: detail.grid_worker ?? null, leader: detail.grid_leader ?? null }
}
