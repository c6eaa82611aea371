import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/client'
import {
  actionBody,
  actionButtonType,
  actionProblems,
  caseQuery,
  categoryOptions,
  countdown,
  currentDue,
  duplicateCandidates,
  emptyActionForm,
  emptyFilters,
  lowerRungs,
  needsReload,
  newKey,
  nextDay,
  pendingExtension,
  scopeContext,
  sortParam,
  STATUSES,
  statusTag,
} from '@/modules/cases/caseModel'
import type { Category, Extension } from '@/modules/cases/types'

const NOW = new Date('2026-03-02T08:00:00Z')

describe('status tags', () => {
  it('give every status its own look', () => {
    const looks = STATUSES.map((s) => `${statusTag(s).type}/${statusTag(s).effect}`)
    expect(new Set(looks).size).toBe(STATUSES.length)
  })

  it('mark waiting amber, sent back red, closed green', () => {
    expect(statusTag('reported').type).toBe('warning')
    expect(statusTag('returned').type).toBe('danger')
    expect(statusTag('closed').type).toBe('success')
    expect(statusTag('something new')).toEqual({ type: 'info', effect: 'plain' })
  })
})

describe('deadlines', () => {
  const due = { accept_due: '2026-03-02T10:00:00Z', handle_due: '2026-03-09T10:00:00Z' }

  it('run against acceptance while waiting, handling after, nothing once finished', () => {
    expect(currentDue({ status: 'reported', ...due })).toBe(due.accept_due)
    expect(currentDue({ status: 'escalated', ...due })).toBe(due.accept_due)
    expect(currentDue({ status: 'in_progress', ...due })).toBe(due.handle_due)
    expect(currentDue({ status: 'closed', ...due })).toBeNull()
    expect(currentDue({ status: 'rejected', ...due })).toBeNull()
  })

  it('count down in days, hours and minutes, and up once overdue', () => {
    expect(countdown('2026-03-04T11:30:00Z', NOW)).toEqual({ overdue: false, days: 2, hours: 3, minutes: 30 })
    expect(countdown('2026-03-02T07:15:00Z', NOW)).toEqual({ overdue: true, days: 0, hours: 0, minutes: 45 })
  })
})

describe('hand down', () => {
  it('offers the rungs below the holder, nearest first', () => {
    expect(lowerRungs('street')).toEqual(['community', 'grid'])
    expect(lowerRungs('city')).toEqual(['district', 'street', 'community', 'grid'])
    expect(lowerRungs('grid')).toEqual([])
  })
})

describe('categories', () => {
  const cat = (code: string, name: string, active = true): Category => ({
    code,
    parent_code: code.length === 4 ? code.slice(0, 2) : null,
    depth: code.length === 4 ? 2 : 1,
    name_zh: name,
    name_en: `${name}-en`,
    default_priority: 'normal',
    department_type: null,
    accept_days: null,
    handle_days: null,
    active,
  })

  it('nest the active categories under their class, in the language shown', () => {
    const options = categoryOptions([cat('05', '市政'), cat('0501', '井盖'), cat('0502', '路灯', false), cat('03', '安全'), cat('0302', '燃气')], 'zh-CN')
    expect(options).toEqual([
      { value: '05', label: '市政', children: [{ value: '0501', label: '井盖' }] },
      { value: '03', label: '安全', children: [{ value: '0302', label: '燃气' }] },
    ])
    expect(categoryOptions([cat('05', '市政')], 'en')[0]?.label).toBe('市政-en')
  })
})

describe('the list query', () => {
  it('sends only what is set', () => {
    expect(caseQuery(emptyFilters(), 1, 20, null)).toEqual({ page: 1, page_size: 20 })
  })

  it('maps every filter to the API parameter', () => {
    const q = caseQuery(
      {
        status: 'accepted',
        openOnly: true,
        category: '05',
        priority: 'urgent',
        level: 'community',
        card: 'red',
        area: { level: 'street', code: '340303001' },
        overdue: true,
        range: ['2026-01-31', '2026-02-28'],
        text: '  井盖 ',
      },
      3,
      50,
      '-reported_at',
    )
    expect(q).toEqual({
      page: 3,
      page_size: 50,
      status: 'accepted',
      open_only: true,
      category_code: '05',
      priority: 'urgent',
      level: 'community',
      card: 'red',
      street_code: '340303001',
      overdue: true,
      since: '2026-01-31T00:00:00+08:00',
      until: '2026-03-01T00:00:00+08:00',
      q: '井盖',
      sort: '-reported_at',
    })
  })

  it('takes the end date whole (until the next Shanghai midnight)', () => {
    expect(nextDay('2026-12-31')).toBe('2027-01-01')
    expect(nextDay('2028-02-28')).toBe('2028-02-29')
  })

  it('turns the table sort into the API sort, ignoring columns the API does not sort', () => {
    expect(sortParam('handle_due', 'ascending')).toBe('handle_due')
    expect(sortParam('reported_at', 'descending')).toBe('-reported_at')
    expect(sortParam('reported_at', null)).toBeNull()
    expect(sortParam('title', 'ascending')).toBeNull()
  })
})

describe('server answers', () => {
  it('read the duplicate candidates of a 409 possible_duplicate', () => {
    const candidate = { id: 7, code: 'SJ1', title: 't', status: 'accepted', distance_m: 12.5, reported_at: '2026-03-01T00:00:00Z', followers: 2 }
    expect(duplicateCandidates(new ApiError(409, 'possible_duplicate', 'm', { candidates: [candidate] }))).toEqual([candidate])
    expect(duplicateCandidates(new ApiError(409, 'stale_version', 'm', {}))).toBeNull()
    expect(duplicateCandidates(new Error('x'))).toBeNull()
  })

  it('reload the case after a stale version or an action no longer allowed, not after other errors', () => {
    expect(needsReload(new ApiError(409, 'stale_version', 'm'))).toBe(true)
    expect(needsReload(new ApiError(409, 'action_not_allowed', 'm'))).toBe(true)
    expect(needsReload(new ApiError(409, 'conflict', 'm'))).toBe(false)
    expect(needsReload(new ApiError(422, 'invalid_input', 'm'))).toBe(false)
  })
})

describe('action forms', () => {
  const extension: Extension = { id: 4, days: 3, reason: 'r', status: 'pending', decision_note: null, requested_at: '', decided_at: null }

  it('ask for what the server requires', () => {
    const form = emptyActionForm()
    expect(actionProblems('handle', form)).toEqual({ note: 'cases.action.noteRequired' })
    expect(actionProblems('accept', form)).toEqual({})
    expect(Object.keys(actionProblems('dispatch', form))).toEqual(['lead_unit_id'])
    expect(Object.keys(actionProblems('hand_down', form))).toEqual(['level'])
    expect(Object.keys(actionProblems('request_extension', { ...form, note: 'x', days: 31 }))).toEqual(['days'])
    expect(Object.keys(actionProblems('decide_extension', form))).toEqual(['grant'])
    expect(Object.keys(actionProblems('rate', form))).toEqual(['satisfaction'])
    expect(actionProblems('supervise', { ...form, note: '请尽快办理' })).toEqual({})
  })

  it('send the version decided on, a replay key, and only the action’s own fields', () => {
    const form = { ...emptyActionForm(), note: ' 派往城管 ', lead_unit_id: 3, co_unit_ids: [3, 5], level: 'grid' }
    expect(actionBody('dispatch', form, 6, 'k1234567')).toEqual({
      action: 'dispatch',
      expected_version: 6,
      idempotency_key: 'k1234567',
      note: '派往城管',
      lead_unit_id: 3,
      co_unit_ids: [5],
    })
    expect(actionBody('accept', emptyActionForm(), 2, 'k')).toEqual({ action: 'accept', expected_version: 2, idempotency_key: 'k' })
    expect(actionBody('decide_extension', { ...emptyActionForm(), grant: false }, 2, 'k', extension)).toMatchObject({ extension_id: 4, grant: false })
    expect(actionBody('supervise', { ...emptyActionForm(), colour: 'red', note: 'x' }, 2, 'k')).toMatchObject({ colour: 'red' })
    expect(actionBody('hand_down', form, 2, 'k')).toMatchObject({ level: 'grid' })
    expect(actionBody('rate', { ...emptyActionForm(), satisfaction: 4 }, 2, 'k')).toMatchObject({ satisfaction: 4 })
  })

  it('find the pending extension request', () => {
    expect(pendingExtension([{ ...extension, status: 'granted' }, extension])).toBe(extension)
    expect(pendingExtension([])).toBeNull()
  })

  it('colour the buttons by what they do', () => {
    expect(actionButtonType('accept')).toBe('primary')
    expect(actionButtonType('reject')).toBe('danger')
    expect(actionButtonType('supervise')).toBe('warning')
    expect(actionButtonType('comment')).toBe('default')
  })

  it('make keys the API accepts (8–64 characters), different each time', () => {
    const a = newKey()
    expect(a).toMatch(/^[0-9a-f]{32}$/)
    expect(newKey()).not.toBe(a)
  })
})

describe('the report map', () => {
  it('shows the divisions just below the user’s scope', () => {
    expect(scopeContext('city', '340300')).toEqual({ level: 'district', parentCode: null })
    expect(scopeContext('street', '340303001')).toEqual({ level: 'community', parentCode: '340303001' })
    expect(scopeContext('grid', '340303001001002')).toEqual({ level: 'grid', parentCode: '340303001001', highlight: '340303001001002' })
  })
})
