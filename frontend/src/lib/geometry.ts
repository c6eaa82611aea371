/** Small helpers over GeoJSON geometry in lon/lat degrees (no dependency on the map library). */

export type Position = number[]
export type BBox = [number, number, number, number]

export type PolygonalGeometry =
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] }

const EARTH_RADIUS_KM = 6371.0088

function isPolygonal(geometry: unknown): geometry is PolygonalGeometry {
  if (typeof geometry !== 'object' || geometry === null) return false
  const g = geometry as { type?: unknown; coordinates?: unknown }
  return (g.type === 'Polygon' || g.type === 'MultiPolygon') && Array.isArray(g.coordinates)
}

function polygons(geometry: unknown): Position[][][] {
  if (!isPolygonal(geometry)) return []
  return geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates
}

/** Spherical area of one ring in km² (absolute), after the ring-area formula of Chamberlain & Duquette. */
function ringAreaKm2(ring: Position[]): number {
  const n = ring.length
  if (n < 3) return 0
  let total = 0
  for (let i = 0; i < n; i++) {
    const p1 = ring[i] as Position
    const p2 = ring[(i + 1) % n] as Position
    const lon1 = ((p1[0] ?? 0) * Math.PI) / 180
    const lon2 = ((p2[0] ?? 0) * Math.PI) / 180
    const lat1 = ((p1[1] ?? 0) * Math.PI) / 180
    const lat2 = ((p2[1] ?? 0) * Math.PI) / 180
    total += (lon2 - lon1) * (2 + Math.sin(lat1) + Math.sin(lat2))
  }
  return Math.abs((total * EARTH_RADIUS_KM * EARTH_RADIUS_KM) / 2)
}

/** Area of a Polygon/MultiPolygon in km² (holes subtracted); 0 for anything else. */
export function areaKm2(geometry: unknown): number {
  let area = 0
  for (const polygon of polygons(geometry)) {
    polygon.forEach((ring, index) => {
      area += index === 0 ? ringAreaKm2(ring) : -ringAreaKm2(ring)
    })
  }
  return Math.max(area, 0)
}

/** Bounding box [minLon, minLat, maxLon, maxLat], or null for an empty geometry. */
export function bbox(geometry: unknown): BBox | null {
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  for (const polygon of polygons(geometry)) {
    for (const ring of polygon) {
      for (const [x = NaN, y = NaN] of ring) {
        if (x < minX) minX = x
        if (y < minY) minY = y
        if (x > maxX) maxX = x
        if (y > maxY) maxY = y
      }
    }
  }
  return Number.isFinite(minX) ? [minX, minY, maxX, maxY] : null
}

export function bboxIntersects(a: BBox, b: BBox): boolean {
  return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/** Ray-casting point-in-polygon over every polygon of the geometry (holes respected). */
export function containsPoint(geometry: unknown, lon: number, lat: number): boolean {
  for (const polygon of polygons(geometry)) {
    let inside = false
    for (const ring of polygon) {
      if (ringContains(ring, lon, lat)) inside = !inside
    }
    if (inside) return true
  }
  return false
}

function ringContains(ring: Position[], x: number, y: number): boolean {
  let inside = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi = 0, yi = 0] = ring[i] as Position
    const [xj = 0, yj = 0] = ring[j] as Position
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
  }
  return inside
}

/**
 * A point for the label: the area centroid of the largest polygon if it lies inside, otherwise the middle
 * of the widest horizontal run through the polygon's mid-latitude (always inside for simple shapes).
 */
export function labelPoint(geometry: unknown): [number, number] | null {
  const all = polygons(geometry)
  if (all.length === 0) return null
  let best: Position[][] = all[0] as Position[][]
  let bestArea = -1
  for (const polygon of all) {
    const a = ringAreaKm2(polygon[0] ?? [])
    if (a > bestArea) {
      bestArea = a
      best = polygon
    }
  }
  const outer = best[0] ?? []
  let cx = 0
  let cy = 0
  let twiceArea = 0
  for (let i = 0, j = outer.length - 1; i < outer.length; j = i++) {
    const [xi = 0, yi = 0] = outer[i] as Position
    const [xj = 0, yj = 0] = outer[j] as Position
    const f = xj * yi - xi * yj
    twiceArea += f
    cx += (xj + xi) * f
    cy += (yj + yi) * f
  }
  const box = bbox({ type: 'Polygon', coordinates: best })
  if (!box) return null
  if (twiceArea !== 0) {
    const c: [number, number] = [cx / (3 * twiceArea), cy / (3 * twiceArea)]
    if (containsPoint({ type: 'Polygon', coordinates: best }, c[0], c[1])) return c
  }
  // Fallback: scan the mid-latitude for the widest inside run.
  const y = (box[1] + box[3]) / 2
  const xs: number[] = []
  for (const ring of best) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi = 0, yi = 0] = ring[i] as Position
      const [xj = 0, yj = 0] = ring[j] as Position
      if (yi > y !== yj > y) xs.push(((xj - xi) * (y - yi)) / (yj - yi) + xi)
    }
  }
  xs.sort((a, b) => a - b)
  let bestRun: [number, number] | null = null
  for (let i = 0; i + 1 < xs.length; i += 2) {
    const a = xs[i] as number
    const b = xs[i + 1] as number
    if (!bestRun || b - a > bestRun[1] - bestRun[0]) bestRun = [a, b]
  }
  return bestRun ? [(bestRun[0] + bestRun[1]) / 2, y] : [(box[0] + box[2]) / 2, y]
}

/** People per km², or null when the area is unknown. */
export function density(population: number, area: number): number | null {
  return area > 0 ? population / area : null
}
