import { describe, expect, it } from 'vitest'
import {
  categoriesToSave,
  categoryRows,
  columnsByField,
  columnsToSave,
  feedCounts,
  feedFileKind,
  mappingProblems,
  rowProblems,
  unknownCategories,
} from '@/modules/safety/feeds'

describe('feed mappings in the form', () => {
  it('turn stored columns round to one column per field and back, blanks left out', () => {
    const stored = { 警情编号: 'record_id', 报警时间: 'occurred_at', 经度: 'lon' }
    const byField = columnsByField(stored)
    expect(byField).toEqual({ record_id: '警情编号', occurred_at: '报警时间', lon: '经度' })
    expect(columnsToSave({ ...byField, lat: '  ', category: ' 警情类别 ' })).toEqual({ ...stored, 警情类别: 'category' })
  })

  it('keep the category table as rows, trimmed, incomplete rows dropped', () => {
    const rows = categoryRows({ 盗窃: '0101', 打架: '0201' })
    expect(rows).toEqual([
      { label: '盗窃', code: '0101' },
      { label: '打架', code: '0201' },
    ])
    expect(categoriesToSave([...rows, { label: ' 火灾 ', code: '0301' }, { label: '', code: '' }])).toEqual({ 盗窃: '0101', 打架: '0201', 火灾: '0301' })
  })

  it('find what the server would refuse, every problem at once', () => {
    expect(mappingProblems({ name: '', byField: {}, rows: [], unknown: 'fallback', fallback: null }).map((p) => p.key)).toEqual(['nameRequired', 'fallbackRequired'])
    const problems = mappingProblems({
      name: '110',
      byField: { record_id: '编号', address: '编号', lon: '' },
      rows: [
        { label: '盗窃', code: '0101' },
        { label: '盗窃', code: '0102' },
        { label: '', code: '0201' },
        { label: '', code: '' },
      ],
      unknown: 'report',
      fallback: null,
    })
    expect(problems).toEqual([
      { key: 'columnTwice', column: '编号' },
      { key: 'labelTwice', label: '盗窃' },
      { key: 'labelIncomplete', row: 3 },
    ])
    expect(mappingProblems({ name: 'ok', byField: { record_id: 'id' }, rows: [], unknown: 'reject', fallback: null })).toEqual([])
  })
})

describe('feed import results', () => {
  const result = {
    rows: 120,
    created: 100,
    duplicates: 12,
    failed: 8,
    unknown_categories: [{ label: '其他警情', rows: 3, action: 'rows refused' }],
    first_problems: [{ row: 7, column: '经度', field: 'location', value: '32.9', reason: 'coordinates look swapped' }, 'junk'],
  }

  it('read the counts, unknown categories and row problems', () => {
    expect(feedCounts(result)).toEqual({ rows: 120, created: 100, duplicates: 12, failed: 8 })
    expect(feedCounts({})).toBeNull()
    expect(feedCounts(null)).toBeNull()
    expect(unknownCategories(result)).toEqual([{ label: '其他警情', rows: 3, action: 'rows refused' }])
    const problems = rowProblems(result)
    expect(problems[0]).toEqual({ row: 7, column: '经度', field: 'location', value: '32.9', reason: 'coordinates look swapped' })
    expect(problems).toHaveLength(2)
    expect(rowProblems({ first_problems: 'x' })).toEqual([])
  })

  it('know feed files by their names', () => {
    expect(feedFileKind('calls.CSV')).toBe('csv')
    expect(feedFileKind('calls.json')).toBe('json')
    expect(feedFileKind('calls.jsonl')).toBe('jsonl')
    expect(feedFileKind('calls.xlsx')).toBeNull()
  })
})
