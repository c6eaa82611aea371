/**
 * What the big screen shows for the area in view, and how it stays current:
 *
 * - on an area change everything is read again (figures, trends, rankings, positions, the feed);
 * - the live stream adds to the feed and the map as events arrive, and makes the figures be re-read (at most
 *   every few seconds, however many events come);
 * - a slow timer re-reads everything anyway (an event lost while disconnected; figures that change with the
 *   clock, like overdue cases), and `resync` (reconnected, or the server says we fell behind) re-reads at once.
 *
 * Each panel keeps its own error, so one failing endpoint leaves the others working.
 */
import { computed, onBeforeUnmount, reactive, ref, shallowRef, watch, type Ref } from 'vue'
import type { CaseRow } from '@/modules/cases/types'
import { errorText } from '@/modules/registry/common/errors'
import { useLive } from '@/modules/notifications/useLive'
import { RESYNC } from '@/lib/live'
import * as commandApi from './commandApi'
import type { IndexList, IndexTrend, Overview, PeriodType, Ranking, Trend, Warning } from './commandApi'
import {
  caseEventItem,
  caseEventTouches,
  cardTone,
  feedInArea,
  incidentItem,
  mergeFeed,
  time,
  warningItem,
  type FeedItem,
} from './feed'
import { communityOfGrid, inArea, mapQuery, type AreaStep } from './drill'
import type { AreaScore } from './mapLayers'
import { isBand } from '@/modules/safety/bands'
import { addLivePoint, liveFeatures, prune, type LivePoint } from './liveLayer'
import { positionFeatures, readPosition, removePosition, upsertPosition, visiblePositions, type WorkerPosition } from './positions'

export type Panel = 'figures' | 'trend' | 'units' | 'areas' | 'positions' | 'feed' | 'incidents' | 'index' | 'indexTrend' | 'warnings'

/** Figures re-read at most this often after events. */
const EVENT_DEBOUNCE_MS = 2500
/** Everything re-read this often regardless of events. */
const REFRESH_MS = 60_000
/** The live layer redrawn this often (the points fade). */
const FADE_TICK_MS = 5_000

export function caseItem(row: CaseRow): FeedItem {
  return {
    key: `case:${row.id}`,
    kind: 'case',
    id: row.id,
    at: time(row.reported_at) ?? 0,
    title: row.title,
    detail: [row.address, row.code].filter(Boolean).join(' · '),
    tone: cardTone(row.card),
    areaCode: row.grid_code,
    lon: row.lon,
    lat: row.lat,
  }
}

export interface Names {
  category: (code: string) => string
  incidentCategory: (code: string) => string
  source: (source: string) => string
}

/** The index scores by area code (for the map and the "lowest index" ranking). */
export function scoreMap(list: IndexList | null): Map<string, AreaScore> {
  const scores = new Map<string, AreaScore>()
  for (const a of list?.areas ?? []) scores.set(a.code, { score: a.score, band: isBand(a.band) ? a.band : null })
  return scores
}

/**
 * `can(permission)` says what the user may read: panels whose data the role may not see are left empty
 * rather than asked for (community staff read no single police calls, for instance).
 */
export function useCommandData(
  area: Ref<AreaStep | undefined>,
  period: Ref<PeriodType>,
  names: Names,
  can: (permission: string) => boolean = () => true,
) {
  const overview = shallowRef<Overview | null>(null)
  const trend = shallowRef<Trend | null>(null)
  const units = shallowRef<Ranking | null>(null)
  const areas = shallowRef<Ranking | null>(null)
  const workers = shallowRef<WorkerPosition[]>([])
  const index = shallowRef<IndexList | null>(null)
  const indexTrend = shallowRef<IndexTrend | null>(null)
  const warnings = shallowRef<Warning[]>([])
  const feed = shallowRef<FeedItem[]>([])
  const points = shallowRef<LivePoint[]>([])
  const errors = reactive<Partial<Record<Panel, string>>>({})
  const now = ref(Date.now())
  let seq = 0
  let eventTimer: ReturnType<typeof setTimeout> | undefined
  let feedTimer: ReturnType<typeof setTimeout> | undefined
  let warningTimer: ReturnType<typeof setTimeout> | undefined

  async function guard<T>(panel: Panel, mine: number, work: () => Promise<T>, apply: (value: T) => void): Promise<void> {
    try {
      const value = await work()
      if (mine !== seq) return
      apply(value)
      delete errors[panel]
    } catch (error) {
      if (mine === seq) errors[panel] = errorText(error)
    }
  }

  function loadFigures(mine = seq): Promise<unknown> {
    const a = area.value
    if (!a) return Promise.resolve()
    return Promise.all([
      guard('figures', mine, () => commandApi.overview(a), (v) => (overview.value = v)),
      guard('positions', mine, () => commandApi.positions(a), (v) => {
        workers.value = v.items.flatMap((row) => {
          const p = readPosition(row as unknown as Record<string, unknown>)
          return p ? [p] : []
        })
      }),
    ])
  }

  function loadFeed(mine = seq): Promise<unknown> {
    const a = area.value
    if (!a) return Promise.resolve()
    return Promise.all([
      guard('feed', mine, () => commandApi.latestCases(a, 30), (page) => {
        feed.value = mergeFeed(feedInArea(feed.value, a), page.items.map(caseItem))
      }),
      can('safety:incidents')
        ? guard('incidents', mine, () => commandApi.latestIncidents(a, 30), (page) => {
            const items = page.items.flatMap((row) => incidentItem(row, { category: names.incidentCategory, source: names.source }) ?? [])
            feed.value = mergeFeed(feedInArea(feed.value, a), items)
          })
        : Promise.resolve(),
    ])
  }

  function loadWarnings(mine = seq): Promise<unknown> {
    const a = area.value
    if (!a || !can('safety:read')) return Promise.resolve()
    return guard('warnings', mine, () => commandApi.openWarnings(a, 50), (page) => {
      warnings.value = page.items
      // The feed is news: warnings of the last day (older open ones stay in the warning list).
      const since = Date.now() - 86_400_000
      const recent = page.items.filter((w) => (time(w.created_at) ?? 0) >= since)
      const items = recent.flatMap((w) => warningItem(w as unknown as Record<string, unknown>, 0) ?? [])
      feed.value = mergeFeed(feedInArea(feed.value, a), items)
    })
  }

  function loadIndex(mine = seq): Promise<unknown> {
    const a = area.value
    if (!a || !can('safety:read')) return Promise.resolve()
    const query = mapQuery(a, communityOfGrid(a.code))
    return Promise.all([
      query
        ? guard('index', mine, () => commandApi.indexScores(query.level, query.parentCode, period.value), (v) => (index.value = v))
        : Promise.resolve(),
      guard('indexTrend', mine, () => commandApi.indexTrend(a, period.value), (v) => (indexTrend.value = v)),
    ])
  }

  function loadAll(): Promise<unknown> {
    const a = area.value
    if (!a) return Promise.resolve()
    const mine = ++seq
    return Promise.all([
      loadFigures(mine),
      loadFeed(mine),
      loadWarnings(mine),
      loadIndex(mine),
      guard('trend', mine, () => commandApi.trend(a, 30), (v) => (trend.value = v)),
      guard('units', mine, () => commandApi.ranking(a, 'units', 30), (v) => (units.value = v)),
      a.level === 'grid'
        ? Promise.resolve((areas.value = null))
        : guard('areas', mine, () => commandApi.ranking(a, 'areas', 30), (v) => (areas.value = v)),
    ])
  }

  /** After events: figures soon (one read for a burst), and the feed re-read to name the new cases. */
  function soon(): void {
    clearTimeout(eventTimer)
    eventTimer = setTimeout(() => void loadFigures(), EVENT_DEBOUNCE_MS)
  }

  function feedSoon(): void {
    clearTimeout(feedTimer)
    feedTimer = setTimeout(() => void loadFeed(), 1200)
  }

  function addItem(item: FeedItem): void {
    if (!inArea(item.areaCode, area.value)) return
    feed.value = mergeFeed(feed.value, [item])
    points.value = addLivePoint(points.value, item, Date.now())
  }

  useLive('case', (payload) => {
    const item = caseEventItem(payload, Date.now(), names.category)
    if (item) {
      addItem(item)
      feedSoon()
    }
    if (caseEventTouches(payload, area.value)) soon()
  })
  useLive('safety.incident', (payload) => {
    if (payload.resync === true) {
      feedSoon()
      soon()
      return
    }
    const item = incidentItem(payload, { category: names.incidentCategory, source: names.source })
    if (item) addItem(item)
    if (item && inArea(item.areaCode, area.value)) soon()
  })
  useLive('safety.warning', (payload) => {
    const code = typeof payload.area_code === 'string' ? payload.area_code : null
    if (!inArea(code, area.value)) return
    const item = warningItem(payload, Date.now())
    if (item) addItem(item)
    clearTimeout(warningTimer)
    warningTimer = setTimeout(() => void loadWarnings(), 1000)
    soon()
  })
  // A worker starting or stopping to share changes the "on duty" figure too.
  useLive('command.position', (payload) => {
    const p = readPosition(payload)
    if (!p) return
    const known = workers.value.some((w) => w.userId === p.userId)
    workers.value = upsertPosition(workers.value, p)
    if (!known) soon()
  })
  useLive('command.position_removed', (payload) => {
    // One worker (`user_id`), or many ended at once (`user_ids`, `resync`: the figures re-read them all).
    const ids = Array.isArray(payload.user_ids) ? payload.user_ids : [payload.user_id]
    for (const id of ids) workers.value = removePosition(workers.value, id)
    soon()
  })
  useLive(RESYNC, () => void loadAll())

  const refresh = setInterval(() => void loadAll(), REFRESH_MS)
  const tick = setInterval(() => {
    now.value = Date.now()
    points.value = prune(points.value, now.value)
  }, FADE_TICK_MS)
  onBeforeUnmount(() => {
    clearInterval(refresh)
    clearInterval(tick)
    clearTimeout(eventTimer)
    clearTimeout(feedTimer)
    clearTimeout(warningTimer)
  })

  watch(
    () => area.value?.code,
    () => {
      points.value = []
      void loadAll()
    },
    { immediate: true },
  )
  watch(period, () => void loadIndex())

  const shownFeed = computed(() => feedInArea(feed.value, area.value))
  const shownWorkers = computed(() => visiblePositions(workers.value, now.value, area.value))
  const liveLayer = computed(() => liveFeatures(points.value, now.value))
  const workerLayer = computed(() => positionFeatures(shownWorkers.value))

  const scores = computed(() => scoreMap(index.value))

  return {
    overview,
    trend,
    units,
    areas,
    index,
    scores,
    indexTrend,
    warnings,
    feed: shownFeed,
    workers: shownWorkers,
    liveLayer,
    workerLayer,
    errors,
    now,
    reload: loadAll,
  }
}

export type CommandData = ReturnType<typeof useCommandData>
