import { describe, expect, it } from 'vitest'
import { backtestRows, unitName } from '@/modules/safety/hotspots'

describe('hotspot helpers', () => {
  it('read a back-test summary by coverage, smallest first', () => {
    const figures = {
      '5%': { hit_rate: 0.31, pai: 6.2, pei: 0.55, area_share: 0.05 },
      '1%': { hit_rate: 0.12, pai: 12.1, pei: 0.4, area_share: 0.01 },
      '10%': { hit_rate: 'n/a' },
      jaccard_top5: 0.6,
      seconds_per_period: 0.02,
    }
    expect(backtestRows(figures)).toEqual([
      { coverage: '1%', hitRate: 0.12, pai: 12.1, pei: 0.4 },
      { coverage: '5%', hitRate: 0.31, pai: 6.2, pei: 0.55 },
      { coverage: '10%', hitRate: null, pai: null, pei: null },
    ])
    expect(backtestRows(null)).toEqual([])
  })

  it('name grids by name and cells by row and column', () => {
    const cell = (row: number, col: number) => `方格 ${row}-${col}`
    expect(unitName({ id: '340302001001', name: '光明社区第1网格' }, cell)).toBe('光明社区第1网格')
    expect(unitName({ id: 'r12c7' }, cell)).toBe('方格 12-7')
    expect(unitName({ id: 'odd' }, cell)).toBe('odd')
  })
})
