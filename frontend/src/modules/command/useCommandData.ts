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
import { loadCategories } from '@/modules/cases/caseApi'
import type { CaseRow } from '@/modules/cases/types'
import { errorText } from '@/modules/registry/common/errors'
import { useLive } from '@/modules/notifications/useLive'
import { RESYNC } from '@/lib/live'
import * as commandApi from './commandApi'
import type { Overview, Ranking, Trend } from './commandApi'
import { caseEventItem, caseEventTouches, cardTone, feedInArea, mergeFeed, time, type FeedItem } from './feed'
import { inArea, type AreaStep } from './drill'
import { addLivePoint, liveFeatures, prune, type LivePoint } from './liveLayer'
import { positionFeatures, readPosition, removePosition, upsertPosition, visiblePositions, type WorkerPosition } from './positions'

export type Panel = 'figures' | 'trend' | 'units' | 'areas' | 'positions' | 'feed'

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
    detail: [row.category_name, row.address].filter(Boolean).join(' · ') || row.code,
    tone: cardTone(row.card),
    areaCode: row.grid_code,
    lon: row.lon,
    lat: row.lat,
  }
}

export function useCommandData(area: Ref<AreaStep | undefined>) {
  const overview = shallowRef<Overview | null>(null)
  const trend = shallowRef<Trend | null>(null)
  const units = shallowRef<Ranking | null>(null)
  const areas = shallowRef<Ranking | null>(null)
  const workers = shallowRef<WorkerPosition[]>([])
  const feed = shallowRef<FeedItem[]>([])
  const points = shallowRef<LivePoint[]>([])
  const errors = reactive<Partial<Record<Panel, string>>>({})
  const now = ref(Date.now())
  const categoryNames = new Map<string, string>()
  let seq = 0
  let eventTimer: ReturnType<typeof setTimeout> | undefined
  let feedTimer: ReturnType<typeof setTimeout> | undefined

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
    return guard('feed', mine, () => commandApi.latestCases(a, 30), (page) => {
      feed.value = mergeFeed(feedInArea(feed.value, a), page.items.map(caseItem))
    })
  }

  function loadAll(): Promise<unknown> {
    const a = area.value
    if (!a) return Promise.resolve()
    const mine = ++seq
    return Promise.all([
      loadFigures(mine),
      loadFeed(mine),
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
    const item = caseEventItem(payload, Date.now(), (code) => categoryNames.get(code) ?? code)
    if (item) {
      addItem(item)
      feedSoon()
    }
    if (caseEventTouches(payload, area.value)) soon()
  })
  useLive('command.position', (payload) => {
    const p = readPosition(payload)
    if (p) workers.value = upsertPosition(workers.value, p)
  })
  useLive('command.position_removed', (payload) => {
    workers.value = removePosition(workers.value, payload.user_id)
  })
  useLive(RESYNC, () => void loadAll())

  void loadCategories()
    .then((list) => {
      for (const c of list) categoryNames.set(c.code, c.name_zh)
    })
    .catch(() => undefined)

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
  })

  watch(
    () => area.value?.code,
    () => {
      points.value = []
      void loadAll()
    },
    { immediate: true },
  )

  const shownFeed = computed(() => feedInArea(feed.value, area.value))
  const shownWorkers = computed(() => visiblePositions(workers.value, now.value, area.value))
  const liveLayer = computed(() => liveFeatures(points.value, now.value))
  const workerLayer = computed(() => positionFeatures(shownWorkers.value))

  return { overview, trend, units, areas, feed: shownFeed, workers: shownWorkers, liveLayer, workerLayer, errors, now, reload: loadAll }
}
