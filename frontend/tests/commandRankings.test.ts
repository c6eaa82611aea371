import { describe, expect, it } from 'vitest'
import { RANK_ROWS, scaledRows } from '@/modules/command/rankings'

interface Row {
  code: string
  name: string
  n: number
}

const of = { value: (r: Row) => r.n, text: (r: Row) => `${r.n}`, key: (r: Row) => r.code, name: (r: Row) => r.name, colour: 'red' }

describe('ranking rows', () => {
  it('keeps the first rows, each bar relative to the largest of them', () => {
    const rows = Array.from({ length: 9 }, (_, i) => ({ code: `c${i}`, name: `n${i}`, n: 9 - i }))
    const shown = scaledRows(rows, of)
    expect(shown).toHaveLength(RANK_ROWS)
    expect(shown[0]).toEqual({ key: 'c0', name: 'n0', share: 1, value: '9', colour: 'red' })
    expect(shown[5]?.share).toBeCloseTo(4 / 9)
  })

  it('shortens committee names and survives all-zero values', () => {
    const shown = scaledRows([{ code: 'a', name: '东风社区居民委员会', n: 0 }], of)
    expect(shown).toEqual([{ key: 'a', name: '东风社区', share: 0, value: '0', colour: 'red' }])
  })
})
