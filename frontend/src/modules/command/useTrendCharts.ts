/**
 * The big screen's three trend charts as ECharts options: cases reported and closed, police calls by
 * indicator (30 days each), and the safety index of the area shown over the chosen period — with the
 * index's current score and the messages shown instead of an empty chart.
 */
import { computed, ref, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { formatScore } from '@/modules/safety/bands'
import { indexOption, lineOption, type Series } from './charts'
import { activeBands, DEFAULT_BANDS, type PeriodType } from './commandApi'
import type { CommandData } from './useCommandData'

const INDICATOR_COLOURS: Record<string, string> = {
  crime_order: '#f87171',
  fire: '#fb923c',
  traffic: '#fbbf24',
  disputes: '#c084fc',
  hazards: '#38bdf8',
  other: '#64748b',
}

/** `readsSafety`: whether the user may read the index bands (others keep the default bands). */
export function useTrendCharts(data: CommandData, period: Ref<PeriodType>, unit: Ref<number>, readsSafety: boolean) {
  const { t, locale } = useI18n()
  const { trend, indexTrend, errors } = data

  function indicatorName(key: string): string {
    if (key === 'other') return t('command.otherCalls')
    const path = `safety.indicator.${key}`
    const name = t(path)
    return name === path ? key : name
  }

  const caseTrend = computed(() => {
    const days = trend.value?.days ?? []
    const series: Series[] = [
      { name: t('command.reported'), values: days.map((d) => d.cases_reported), colour: '#38bdf8' },
      { name: t('command.closedOfThem'), values: days.map((d) => d.cases_closed), colour: '#34d399' },
    ]
    return lineOption(
      days.map((d) => d.day),
      series,
      unit.value,
    )
  })

  const callTrend = computed(() => {
    const tr = trend.value
    const days = tr?.days ?? []
    const series: Series[] = (tr?.indicators ?? []).map((key) => ({
      name: indicatorName(key),
      values: days.map((d) => d.calls[key] ?? 0),
      colour: INDICATOR_COLOURS[key],
      bar: true,
      stack: 'calls',
    }))
    return lineOption(
      days.map((d) => d.day),
      series,
      unit.value,
    )
  })
  const noCalls = computed(() => (trend.value && trend.value.days.every((d) => d.calls_total === 0) ? t('command.noCalls') : null))

  const thresholds = ref(DEFAULT_BANDS)
  if (readsSafety) {
    void activeBands()
      .then((bands) => (thresholds.value = bands))
      .catch(() => undefined)
  }
  const indexChart = computed(() => {
    const points = indexTrend.value?.points ?? []
    return indexOption(
      points.map((p) => (period.value === 'month' ? p.start.slice(0, 7) : p.start)),
      points.map((p) => p.score),
      thresholds.value,
      t('command.indexScore'),
      unit.value,
    )
  })
  const indexEmpty = computed(() => {
    if (errors.indexTrend) return t('command.noIndex')
    return indexTrend.value && indexTrend.value.points.length === 0 ? t('command.noIndex') : null
  })
  const currentScore = computed(() => {
    const points = indexTrend.value?.points ?? []
    const last = points[points.length - 1]
    return last ? { text: formatScore(last.score, locale.value), band: last.band } : null
  })

  return { caseTrend, callTrend, noCalls, indexChart, indexEmpty, currentScore }
}
