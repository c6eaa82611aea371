/**
 * One ECharts instance in an element for the big screen: created on mount, redrawn when its option changes,
 * resized with its box, disposed on unmount. Tree-shaken imports; text colours for the dark background.
 */
import { BarChart, LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, MarkAreaComponent, TooltipComponent } from 'echarts/components'
import { init, use, type ECharts, type EChartsCoreOption } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { onBeforeUnmount, onMounted, watch, type Ref } from 'vue'

use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, MarkAreaComponent, CanvasRenderer])

export const TEXT = '#c9d8ee'
export const MUTED = '#7f93b2'
export const SPLIT = 'rgba(127, 147, 178, 0.18)'
export const SERIES = ['#38bdf8', '#34d399', '#fbbf24', '#f87171', '#c084fc', '#fb923c']

/** The axes, legend and tooltip look shared by every chart of the screen (font sizes scale with the screen). */
export function baseOption(fontSize: number): EChartsCoreOption {
  return {
    animation: false,
    color: SERIES,
    textStyle: { color: TEXT, fontSize },
    legend: {
      // One line: the rest pages with arrows rather than wrapping over the plot.
      type: 'scroll',
      top: 0,
      textStyle: { color: TEXT, fontSize },
      itemWidth: 12,
      itemHeight: 8,
      itemGap: Math.round(fontSize * 0.6),
      pageIconColor: TEXT,
      pageIconInactiveColor: MUTED,
      pageTextStyle: { color: MUTED },
    },
    tooltip: { trigger: 'axis', confine: true, textStyle: { fontSize } },
    grid: { left: 4, right: 12, top: fontSize * 2.4, bottom: 2, containLabel: true },
  }
}

export function axisStyle(fontSize: number): Record<string, unknown> {
  return {
    axisLabel: { color: MUTED, fontSize: Math.round(fontSize * 0.9) },
    axisLine: { lineStyle: { color: SPLIT } },
    splitLine: { lineStyle: { color: SPLIT } },
  }
}

/**
 * The screen's type unit in pixels for a window (the CSS `--u` of the page uses the same rule): about 15 px on a
 * 1920×1080 wall, 11 px on a 1366×768 laptop, so text is read from across the room and still fits a laptop.
 */
export function screenUnit(width: number, height: number): number {
  return Math.round(Math.min(18, Math.max(11, Math.min(width * 0.008, height * 0.0145))))
}

export function useChart(el: Ref<HTMLElement | undefined>, option: () => EChartsCoreOption | null): { chart: () => ECharts | null } {
  let chart: ECharts | null = null
  let observer: ResizeObserver | null = null

  function draw(): void {
    const value = option()
    if (chart && value) chart.setOption(value, true)
  }

  onMounted(() => {
    if (!el.value) return
    chart = init(el.value)
    observer = new ResizeObserver(() => chart?.resize())
    observer.observe(el.value)
    draw()
  })
  watch(option, draw)
  onBeforeUnmount(() => {
    observer?.disconnect()
    chart?.dispose()
    chart = null
  })
  return { chart: () => chart }
}
