import { describe, expect, it } from 'vitest'
import { categoryOptions, categoryPath } from '@/modules/mobile/cases/categoryTree'
import { countdown, currentDue } from '@/modules/mobile/cases/deadline'
import { mine, splitInbox } from '@/modules/mobile/cases/inbox'
import { fitWithin } from '@/modules/mobile/cases/photos'
import type { CaseRow, Category } from '@/modules/mobile/cases/types'

function row(id: number, status: string, extra: Partial<CaseRow> = {}): CaseRow {
  return {
    id, code: `SJ${id}`, title: `case ${id}`, category_code: '0501', category_name: '占道经营', source: 'grid_worker', priority: 'normal',
    status, level: 'grid', lead_unit_id: null, lon: 117, lat: 32, address: null, grid_code: 'G', community_code: 'C', street_code: 'S',
    district_code: 'D', reported_at: '2026-03-01T00:00:00Z', accept_due: '2026-03-02T00:00:00Z', handle_due: '2026-03-08T00:00:00Z',
    closed_at: null, card: null, followers: 0, overdue: false, version: 1, ...extra,
  } as CaseRow
}

describe('deadlines', () => {
  it('run against acceptance while waiting, handling after, nothing once finished', () => {
    expect(currentDue(row(1, 'reported'))).toBe('2026-03-02T00:00:00Z')
    expect(currentDue(row(1, 'escalated'))).toBe('2026-03-02T00:00:00Z')
    expect(currentDue(row(1, 'in_progress'))).toBe('2026-03-08T00:00:00Z')
    expect(currentDue(row(1, 'closed'))).toBeNull()
    expect(currentDue(row(1, 'rejected'))).toBeNull()
  })

  it('count down in days, hours and minutes, and past the deadline', () => {
    const now = new Date('2026-03-01T00:00:00Z')
    expect(countdown('2026-03-03T05:30:00Z', now)).toEqual({ overdue: false, days: 2, hours: 5, minutes: 30 })
    expect(countdown('2026-02-28T22:45:00Z', now)).toEqual({ overdue: true, days: 0, hours: 1, minutes: 15 })
  })
})

describe('inbox', () => {
  const rows = [
    row(1, 'accepted', { handle_due: '2026-03-09T00:00:00Z' }),
    row(2, 'in_progress', { handle_due: '2026-03-05T00:00:00Z' }),
    row(3, 'handled'),
    row(4, 'dispatched', { level: 'street' }),
    row(5, 'escalated', { level: 'community' }),
    row(6, 'verifying'),
    row(7, 'reported', { accept_due: '2026-03-01T06:00:00Z' }),
  ]

  it('puts the own rung’s open cases in to do, most urgent first, and handled ones in to verify', () => {
    const split = splitInbox(rows, 'grid')
    expect(split.todo.map((c) => c.id)).toEqual([7, 2, 1])
    expect(split.verify.map((c) => c.id).sort()).toEqual([3, 6])
  })

  it('lists the cases reported from this phone, newest first', () => {
    expect(mine(rows, [1, 6, 99]).map((c) => c.id)).toEqual([6, 1])
  })
})

describe('categories', () => {
  const c = (code: string, parent: string | null, active = true) =>
    ({ code, parent_code: parent, depth: parent ? 2 : 1, name_zh: `类${code}`, name_en: `C${code}`, active }) as Category
  const table = [c('05', null), c('0501', '05'), c('0502', '05', false), c('06', null), c('07', null, false), c('0701', '07')]

  it('offers the classes that have active categories, each with its active categories', () => {
    expect(categoryOptions(table, 'zh-CN')).toEqual([{ text: '类05', value: '05', children: [{ text: '类0501', value: '0501' }] }])
  })

  it('names a category with its class', () => {
    expect(categoryPath(table, '0501', 'en')).toBe('C05 / C0501')
    expect(categoryPath(table, null, 'en')).toBe('')
  })
})

describe('photos', () => {
  it('fit within the long side, keeping the proportions', () => {
    expect(fitWithin(4032, 3024)).toEqual({ width: 1920, height: 1440 })
    expect(fitWithin(800, 600)).toEqual({ width: 800, height: 600 })
    expect(fitWithin(3000, 6000, 1000)).toEqual({ width: 500, height: 1000 })
  })
})
