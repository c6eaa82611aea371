import { describe, expect, it } from 'vitest'
import { BAND_COLOURS } from '@/modules/safety/bands'
import { contributionOption, evidenceOption, trendFloor, trendOption } from '@/modules/safety/charts'

const BANDS = { green: '绿色', yellow: '黄色', orange: '橙色', red: '红色' }
type Series = { name: string; type: string; data: unknown[]; markLine?: { data: { yAxis: number }[] }; markArea?: { data: unknown[] } }

describe('chart options', () => {
  it('start the trend axis below the lowest score and the orange threshold', () => {
    expect(trendFloor([95, 88, null], { green: 90, yellow: 80, orange: 70 })).toBe(60)
    expect(trendFloor([55], { green: 90, yellow: 80, orange: 70 })).toBe(40)
    expect(trendFloor([3], null)).toBe(0)
    expect(trendFloor([], null)).toBe(0)
  })

  it('draw the trend with a dashed line at each threshold and points in their band colour', () => {
    const option = trendOption(
      [
        { label: '5月', score: 92, band: 'green' },
        { label: '6月', score: 65, band: 'red' },
        { label: '7月', score: null, band: null },
      ],
      { green: 90, yellow: 80, orange: 70 },
      { score: '得分', bands: BANDS },
    ) as { series: Series[]; xAxis: { data: string[] } }
    const series = option.series[0]!
    expect(option.xAxis.data).toEqual(['5月', '6月', '7月'])
    expect(series.markLine!.data.map((d) => d.yAxis)).toEqual([90, 80, 70])
    expect(series.markArea!.data).toHaveLength(4)
    expect(series.data[1]).toEqual({ value: 65, itemStyle: { color: BAND_COLOURS.red } })
    expect((series.data[2] as { value: unknown }).value).toBeNull()
  })

  it('draw no thresholds when the configuration is unknown', () => {
    const option = trendOption([{ label: 'a', score: 80, band: 'yellow' }], null, { score: 's', bands: BANDS }) as { series: Series[] }
    expect(option.series[0]!.markLine!.data).toEqual([])
  })

  it('list contributions first on top, over the points possible', () => {
    const option = contributionOption(
      [
        { label: '刑事治安', value: 51.23, max: 60 },
        { label: '火灾', value: 20, max: 20 },
      ],
      { value: '贡献', max: '满分' },
    ) as { series: Series[]; yAxis: { data: string[] } }
    expect(option.yAxis.data).toEqual(['火灾', '刑事治安'])
    expect(option.series.map((s) => s.name)).toEqual(['满分', '贡献'])
    expect(option.series[1]!.data).toEqual([20, 51.2])
  })

  it('mark days above the unusual level red and add that line only when known', () => {
    const days = [
      { label: '1', observed: 2, expected: 1.5, upper: 4 },
      { label: '2', observed: 9, expected: 1.6, upper: 4 },
    ]
    const option = evidenceOption(days, { observed: '实际', expected: '期望', upper: '异常线' }) as { series: Series[] }
    expect(option.series).toHaveLength(3)
    expect((option.series[0]!.data[1] as { itemStyle: { color: string } }).itemStyle.color).toBe(BAND_COLOURS.red)
    expect((option.series[0]!.data[0] as { itemStyle: { color: string } }).itemStyle.color).not.toBe(BAND_COLOURS.red)
    const plain = evidenceOption([{ label: '1', observed: 2, expected: 1 }], { observed: 'o', expected: 'e', upper: 'u' }) as { series: Series[] }
    expect(plain.series).toHaveLength(2)
  })
})
