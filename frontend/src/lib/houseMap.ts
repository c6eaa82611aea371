/**
 * The map's house layer: which request a view needs (`GET /registry/houses/map?bbox=&zoom=`).
 *
 * The server returns single houses from zoom 14 and per-grid counts below it. The view's box is padded
 * by a fraction of its size and snapped outwards to a grid of cells whose size follows the zoom, so small
 * pans and tiny zoom changes give the same request (and no new fetch), while the answer still covers what
 * is on screen.
 */
export const HOUSE_POINTS_MIN_ZOOM = 14 // the server's HOUSE_POINTS_MIN_ZOOM
export const PADDING = 0.25

export type HouseLayerMode = 'houses' | 'grids'

export interface HouseMapRequest {
  /** min_lon,min_lat,max_lon,max_lat */
  bbox: string
  zoom: number
  mode: HouseLayerMode
  box: [number, number, number, number]
}

export function houseLayerMode(zoom: number): HouseLayerMode {
  return Math.floor(zoom) >= HOUSE_POINTS_MIN_ZOOM ? 'houses' : 'grids'
}

/** Degrees of one snapping cell at a zoom: a quarter of a 256-px tile's width. */
export function cellSize(zoom: number): number {
  return 360 / 2 ** Math.max(0, Math.floor(zoom)) / 4
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value))
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6
}

/** The request for a view box [w, s, e, n] at a (fractional) zoom. */
export function houseMapRequest(view: readonly [number, number, number, number], zoom: number): HouseMapRequest {
  const z = clamp(Math.floor(zoom), 0, 24)
  const [w, s, e, n] = view
  const padX = (e - w) * PADDING
  const padY = (n - s) * PADDING
  const cell = cellSize(z)
  // Counts per grid serve a whole zoom band below 14; snap them to the coarser cells of zoom 10.
  const step = z >= HOUSE_POINTS_MIN_ZOOM ? cell : Math.max(cell, cellSize(10))
  const box: [number, number, number, number] = [
    round(clamp(Math.floor((w - padX) / step) * step, -180, 180)),
    round(clamp(Math.floor((s - padY) / step) * step, -90, 90)),
    round(clamp(Math.ceil((e + padX) / step) * step, -180, 180)),
    round(clamp(Math.ceil((n + padY) / step) * step, -90, 90)),
  ]
  const mode = houseLayerMode(z)
  // Below 14 the answer is the same for every zoom: ask with one zoom so the key (and cache) is shared.
  const requestZoom = mode === 'houses' ? z : HOUSE_POINTS_MIN_ZOOM - 1
  return { bbox: box.join(','), zoom: requestZoom, mode, box }
}

/**
 * Whether the answer to `last` still serves a view: same mode and the view inside its (padded) box. Houses
 * are clustered in the browser, so zooming in within the box needs no new request — unless the last answer
 * was truncated, when a closer zoom may bring the houses that were left out.
 */
export function covers(
  last: (HouseMapRequest & { truncated?: boolean }) | null,
  view: readonly [number, number, number, number],
  zoom: number,
): boolean {
  if (!last || last.mode !== houseLayerMode(zoom)) return false
  if (last.truncated && Math.floor(zoom) !== last.zoom) return false
  const [w, s, e, n] = last.box
  return view[0] >= w && view[1] >= s && view[2] <= e && view[3] <= n
}

/** Two requests give the same answer. */
export function sameRequest(a: HouseMapRequest | null, b: HouseMapRequest | null): boolean {
  return !!a && !!b && a.bbox === b.bbox && a.zoom === b.zoom
}

/** Circle radius (px) for a grid's house count: grows with the square root, 6–30 px. */
export function countRadius(count: number, max: number): number {
  if (max <= 0 || count <= 0) return 6
  return Math.round(6 + 24 * Math.sqrt(Math.min(count, max) / max))
}
