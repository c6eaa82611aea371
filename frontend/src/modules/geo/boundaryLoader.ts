/**
 * Lazy loading of `/geo/boundaries` per administrative level for the map.
 *
 * Districts and streets of the user's scope come in one request each. Communities and grids are fetched
 * per visible parent (the streets, resp. communities, in view, nearest to the centre first, at most
 * `maxParents` at a time), unless the scope is small enough to fetch them all at once. Every answer is
 * cached for the life of the page, so panning back costs nothing.
 */
import type { BoundaryCollection, BoundaryFeature, BoundaryLevel, Level } from '@/api/types'
import { areaKm2, bbox, bboxIntersects, density, labelPoint, type BBox } from '@/lib/geometry'
import { fetchWholeScope, parentLevel } from '@/lib/levels'

export interface LoadedFeature {
  code: string
  name: string
  level: BoundaryLevel
  parentCode: string | null
  feature: BoundaryFeature
  bbox: BBox | null
  label: [number, number] | null
  areaKm2: number
  density: number | null
}

export type FetchBoundaries = (
  level: BoundaryLevel,
  parentCode: string | null,
) => Promise<BoundaryCollection>

export interface LoaderOptions {
  scopeLevel: Level
  fetch: FetchBoundaries
  maxParents?: number
}

function prepare(level: BoundaryLevel, feature: BoundaryFeature): LoadedFeature {
  const props = feature.properties
  const area = areaKm2(feature.geometry)
  return {
    code: props.code,
    name: props.name,
    level,
    parentCode: props.parent_code ?? null,
    feature,
    bbox: bbox(feature.geometry),
    label: labelPoint(feature.geometry),
    areaKm2: area,
    density: density(props.population, area),
  }
}

function centre(box: BBox): [number, number] {
  return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]
}

export class BoundaryLoader {
  private readonly byLevel = new Map<BoundaryLevel, Map<string, LoadedFeature>>()
  private readonly wholeLoaded = new Set<BoundaryLevel>()
  private readonly parentsLoaded = new Map<BoundaryLevel, Set<string>>()
  private readonly pending = new Map<string, Promise<void>>()
  private readonly maxParents: number
  /** Incremented whenever features are added; lets the map skip redundant redraws. */
  version = 0

  constructor(private readonly options: LoaderOptions) {
    this.maxParents = options.maxParents ?? 40
  }

  features(level: BoundaryLevel): LoadedFeature[] {
    return [...(this.byLevel.get(level)?.values() ?? [])]
  }

  find(code: string): LoadedFeature | undefined {
    for (const level of this.byLevel.values()) {
      const hit = level.get(code)
      if (hit) return hit
    }
    return undefined
  }

  /** Features of `level` whose bounding box meets `view`. */
  visible(level: BoundaryLevel, view: BBox): LoadedFeature[] {
    return this.features(level).filter((f) => f.bbox !== null && bboxIntersects(f.bbox, view))
  }

  /**
   * Make sure the features of `level` covering `view` are loaded. Resolves false when more parents were
   * in view than one call fetches (`maxParents`): call again to load the rest.
   */
  async ensure(level: BoundaryLevel, view: BBox): Promise<boolean> {
    if (fetchWholeScope(level, this.options.scopeLevel)) {
      if (!this.wholeLoaded.has(level)) await this.load(level, null)
      return true
    }
    const parent = parentLevel(level) as BoundaryLevel
    const parentsComplete = await this.ensure(parent, view)
    const done = this.parentsLoaded.get(level) ?? new Set<string>()
    const [cx, cy] = centre(view)
    const missing = this.visible(parent, view)
      .filter((p) => !done.has(p.code))
      .map((p) => {
        const [x, y] = centre(p.bbox as BBox)
        return { code: p.code, distance: (x - cx) ** 2 + (y - cy) ** 2 }
      })
      .sort((a, b) => a.distance - b.distance)
    const wanted = missing.slice(0, this.maxParents)
    await Promise.all(wanted.map((p) => this.load(level, p.code)))
    return parentsComplete && missing.length <= this.maxParents
  }

  /** Load the children of one parent at `level` (used to show a searched division's own area). */
  async ensureChildren(level: BoundaryLevel, parentCode: string): Promise<void> {
    if (this.wholeLoaded.has(level) || this.parentsLoaded.get(level)?.has(parentCode)) return
    await this.load(level, parentCode)
  }

  private load(level: BoundaryLevel, parentCode: string | null): Promise<void> {
    const key = `${level}:${parentCode ?? '*'}`
    let job = this.pending.get(key)
    if (!job) {
      job = this.options
        .fetch(level, parentCode)
        .then((collection) => {
          let store = this.byLevel.get(level)
          if (!store) {
            store = new Map()
            this.byLevel.set(level, store)
          }
          for (const feature of collection.features) {
            const loaded = prepare(level, feature)
            store.set(loaded.code, loaded)
          }
          if (parentCode === null) this.wholeLoaded.add(level)
          else {
            const done = this.parentsLoaded.get(level) ?? new Set<string>()
            done.add(parentCode)
            this.parentsLoaded.set(level, done)
          }
          this.version++
        })
        .finally(() => {
          this.pending.delete(key)
        })
      this.pending.set(key, job)
    }
    return job
  }
}
