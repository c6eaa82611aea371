/** ECharts options of the big screen's trend charts, built from plain series (dark theme, screen-sized fonts). */
import type { EChartsCoreOption } from 'echarts/core'
import { BAND_COLOURS, type BandThresholds } from '@/modules/safety/bands'
import { axisStyle, baseOption, SERIES } from './useChart'

export interface Series {
  name: string
  values: (number | null)[]
  colour?: string
  /** draw as bars (default: a line) */
  bar?: boolean
  /** bars of the same stack pile up */
  stack?: string
}

/** `2024-05-01` → `05-01`; other labels unchanged. */
export function shortDay(label: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(label) ? label.slice(5) : label
}

export function lineOption(labels: readonly string[], series: readonly Series[], fontSize: number): EChartsCoreOption {
  const axis = axisStyle(fontSize)
  return {
    ...baseOption(fontSize),
    xAxis: { type: 'category', data: labels.map(shortDay), boundaryGap: series.some((s) => s.bar), ...axis, splitLine: { show: false } },
    yAxis: { type: 'value', minInterval: 1, ...axis },
    series: series.map((s, i) => ({
      name: s.name,
      type: s.bar ? 'bar' : 'line',
      data: s.values,
      showSymbol: false,
      smooth: 0.35,
      smoothMonotone: 'x',
      barMaxWidth: 12,
      ...(s.stack ? { stack: s.stack } : {}),
      lineStyle: { width: 2 },
      itemStyle: { color: s.colour ?? SERIES[i % SERIES.length] },
      ...(s.bar || i > 0 ? {} : { areaStyle: { opacity: 0.12 } }),
    })),
  }
}

/**
 * The index of one area over time: the score line on the band colours (the bands as horizontal strips, so
 * "yellow for three weeks" reads at a glance).
 */
export function indexOption(
  labels: readonly string[],
  scores: readonly (number | null)[],
  thresholds: BandThresholds,
  name: string,
  fontSize: number,
): EChartsCoreOption {
  const axis = axisStyle(fontSize)
  const finite = scores.filter((s): s is number => typeof s === 'number')
  const low = finite.length ? Math.max(0, Math.floor((Math.min(...finite, thresholds.orange) - 5) / 10) * 10) : 0
  const strip = (from: number, to: number, colour: string): unknown => [{ yAxis: from, itemStyle: { color: colour, opacity: 0.13 } }, { yAxis: to }]
  return {
    ...baseOption(fontSize),
    legend: { show: false },
    grid: { left: 4, right: 12, top: fontSize, bottom: 2, containLabel: true },
    xAxis: { type: 'category', data: labels.map(shortDay), boundaryGap: false, ...axis, splitLine: { show: false } },
    yAxis: { type: 'value', min: low, max: 100, ...axis },
    series: [
      {
        name,
        type: 'line',
        data: scores,
        showSymbol: true,
        symbolSize: 5,
        connectNulls: false,
        lineStyle: { width: 2.5, color: '#e6f1ff' },
        itemStyle: { color: '#e6f1ff' },
        markArea: {
          silent: true,
          data: [
            strip(thresholds.green, 100, BAND_COLOURS.green),
            strip(thresholds.yellow, thresholds.green, BAND_COLOURS.yellow),
            strip(thresholds.orange, thresholds.yellow, BAND_COLOURS.orange),
            strip(0, thresholds.orange, BAND_COLOURS.red),
          ],
        },
      },
    ],
  }
}
