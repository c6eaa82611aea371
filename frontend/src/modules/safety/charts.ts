/**
 * ECharts options of the safety pages, built from plain figures so they can be checked without a canvas: the
 * score trend with the band thresholds, the components' contributions, and a warning's observed vs expected
 * counts by day.
 */
import type { EChartsCoreOption } from 'echarts/core'
import { BAND_COLOURS, bandColour, bandRanges, type Band, type BandThresholds } from './bands'

const AXIS_LABEL = { color: '#606266' }
const GRID = { left: 8, right: 24, top: 32, bottom: 8, containLabel: true }

export interface TrendPoint {
  label: string
  score: number | null
  band: string | null
}

/** The lowest value the score axis starts at: ten below the lowest score or threshold, in tens, ≥ 0. */
export function trendFloor(scores: readonly (number | null)[], thresholds: BandThresholds | null): number {
  const values = scores.filter((s): s is number => typeof s === 'number' && Number.isFinite(s))
  if (thresholds) values.push(thresholds.orange)
  if (!values.length) return 0
  return Math.max(0, Math.floor(Math.min(...values) / 10) * 10 - 10)
}

export function trendOption(
  points: readonly TrendPoint[],
  thresholds: BandThresholds | null,
  names: { score: string; bands: Readonly<Record<Band, string>> },
): EChartsCoreOption {
  const floor = trendFloor(
    points.map((p) => p.score),
    thresholds,
  )
  const ranges = thresholds ? bandRanges(thresholds) : []
  return {
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? v.toFixed(1) : '—') },
    grid: { ...GRID, top: 16, right: 64 },
    xAxis: { type: 'category', data: points.map((p) => p.label), axisLabel: { ...AXIS_LABEL, hideOverlap: true } },
    yAxis: { type: 'value', min: floor, max: 100, axisLabel: AXIS_LABEL },
    series: [
      {
        name: names.score,
        type: 'line',
        data: points.map((p) => ({ value: p.score, itemStyle: { color: bandColour(p.band) } })),
        connectNulls: false,
        symbolSize: 8,
        lineStyle: { color: '#3e63dd', width: 2 },
        markArea: {
          silent: true,
          data: ranges.map((r) => [
            { yAxis: Math.max(r.low, floor), itemStyle: { color: BAND_COLOURS[r.band], opacity: 0.08 } },
            { yAxis: r.high },
          ]),
        },
        markLine: {
          silent: true,
          symbol: 'none',
          data: thresholds
            ? (['green', 'yellow', 'orange'] as const).map((band) => ({
                yAxis: thresholds[band],
                lineStyle: { color: BAND_COLOURS[band], type: 'dashed', width: 1.5 },
                label: { formatter: `${names.bands[band]} ${thresholds[band]}`, color: BAND_COLOURS[band], position: 'end' },
              }))
            : [],
        },
      },
    ],
  }
}

export interface ContributionRow {
  label: string
  /** points this component gave */
  value: number
  /** the most it could give (weight × 100) */
  max: number
}

/** Horizontal bars, first component on top: the points given, over a light bar of the points possible. */
export function contributionOption(rows: readonly ContributionRow[], names: { value: string; max: string }): EChartsCoreOption {
  const ordered = [...rows].reverse() // ECharts draws the first category at the bottom
  return {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: unknown) => (typeof v === 'number' ? v.toFixed(1) : '—') },
    legend: { top: 0, data: [names.value, names.max] },
    grid: GRID,
    xAxis: { type: 'value', min: 0, axisLabel: AXIS_LABEL },
    yAxis: { type: 'category', data: ordered.map((r) => r.label), axisLabel: { ...AXIS_LABEL, width: 110, overflow: 'truncate' } },
    series: [
      { name: names.max, type: 'bar', data: ordered.map((r) => round1(r.max)), itemStyle: { color: '#e9ecef' }, barWidth: 18, z: 1 },
      {
        name: names.value,
        type: 'bar',
        data: ordered.map((r) => round1(r.value)),
        itemStyle: { color: '#3e63dd' },
        barWidth: 18,
        barGap: '-100%',
        z: 2,
        label: { show: true, position: 'right', formatter: (p: { value: number }) => p.value.toFixed(1) },
      },
    ],
  }
}

export interface DayCount {
  label: string
  observed: number | null
  expected: number | null
  /** the count above which a day would be unusual (drawn dashed when known) */
  upper?: number | null
}

export function evidenceOption(days: readonly DayCount[], names: { observed: string; expected: string; upper: string }): EChartsCoreOption {
  const hasUpper = days.some((d) => typeof d.upper === 'number')
  return {
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : '—') },
    legend: { top: 0, data: hasUpper ? [names.observed, names.expected, names.upper] : [names.observed, names.expected] },
    grid: GRID,
    xAxis: { type: 'category', data: days.map((d) => d.label), axisLabel: { ...AXIS_LABEL, hideOverlap: true } },
    yAxis: { type: 'value', minInterval: 1, axisLabel: AXIS_LABEL },
    series: [
      {
        name: names.observed,
        type: 'bar',
        data: days.map((d) => ({
          value: d.observed,
          itemStyle: { color: d.observed !== null && d.upper != null && d.observed > d.upper ? BAND_COLOURS.red : '#5b7aa6' },
        })),
        barMaxWidth: 22,
      },
      // A line needs two points; a short surge compares bars side by side instead.
      days.length > 2
        ? { name: names.expected, type: 'line', data: days.map((d) => round1(d.expected)), symbol: 'circle', symbolSize: 5, itemStyle: { color: '#f59f00' }, lineStyle: { color: '#f59f00', width: 2 } }
        : { name: names.expected, type: 'bar', data: days.map((d) => round1(d.expected)), itemStyle: { color: '#f59f00' }, barMaxWidth: 22 },
      ...(hasUpper
        ? [{ name: names.upper, type: 'line', data: days.map((d) => round1(d.upper ?? null)), symbol: 'none', lineStyle: { color: '#e03131', type: 'dashed', width: 1 } }]
        : []),
    ],
  }
}

function round1(value: number | null): number | null {
  return value === null || !Number.isFinite(value) ? null : Math.round(value * 10) / 10
}
