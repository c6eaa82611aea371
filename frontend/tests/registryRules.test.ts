import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { makeIdNumber } from '@/lib/idNumber'
import { chartRows, worstFirst } from '@/modules/registry/care/overdue'
import { defaultNextVisit, visitProblems } from '@/modules/registry/care/visitRules'
import { creditCodeProblem } from '@/modules/registry/entities/entityConfig'
import { personPatch } from '@/modules/registry/people/personFields'
import { emptyPersonForm, fillFromIdNumber, personProblems } from '@/modules/registry/people/personRules'
import { parseCoordinate, locate, LocateError } from '@/lib/geolocate'
import { useCodesStore } from '@/stores/codes'

const TODAY = '2026-11-29'

describe('person form', () => {
  it('requires name, sex, birth date and (for citizens) an ID number when registering', () => {
    const problems = personProblems(emptyPersonForm(), TODAY, true)
    expect(Object.keys(problems).sort()).toEqual(['birth_date', 'id_number', 'name', 'sex'])
    expect(problems.id_number?.key).toBe('registry.idCheck.idRequired')
  })

  it('checks the ID number against the birth date and sex given', () => {
    const form = { ...emptyPersonForm(), name: '王小明', sex: '2', birth_date: '1990-01-02', id_number: makeIdNumber('340303', '1990-01-01', 123) }
    const problems = personProblems(form, TODAY, true)
    expect(problems.birth_date).toEqual({ key: 'registry.idCheck.birthMismatch', params: { date: '1990-01-01' } })
    expect(problems.sex?.key).toBe('registry.idCheck.sexMismatch')
  })

  it('fills sex and birth date from a valid ID number', () => {
    const form = { ...emptyPersonForm(), id_number: makeIdNumber('340303', '1990-01-01', 124).toLowerCase() }
    fillFromIdNumber(form, TODAY)
    expect(form).toMatchObject({ sex: '2', birth_date: '1990-01-01' })
    expect(personProblems({ ...form, name: '李四' }, TODAY, true)).toEqual({})
  })

  it('asks foreigners for nationality and document, not an ID number', () => {
    const form = { ...emptyPersonForm('foreign'), name: 'John Smith', sex: '1', birth_date: '1980-05-05', nationality: 'usa' }
    const problems = personProblems(form, TODAY, true)
    expect(Object.keys(problems).sort()).toEqual(['document_no', 'document_type', 'nationality'])
  })

  it('when correcting, leaves out masked fields left empty and unchanged values', () => {
    const before = { name: '张*明', occupation: '教师', key_attention: false, ethnicity: '01', phone: '139****0000' }
    const form = { name: '', occupation: '工人', key_attention: false, ethnicity: '01', phone: '13912345678', birth_date: null }
    expect(personPatch(before, form)).toEqual({ occupation: '工人', phone: '13912345678' })
  })
})

describe('special care', () => {
  const rows = [
    { grid_code: '340303001001002', grid_name: 'B', overdue: 1, due_within_7_days: 0, active: 1 },
    { grid_code: '340303001001001', grid_name: 'A', overdue: 1, due_within_7_days: 2, active: 3 },
    { grid_code: '340303001001003', grid_name: 'C', overdue: 0, due_within_7_days: 0, active: 4 },
    { grid_code: '340303001001004', grid_name: 'D', overdue: 5, due_within_7_days: 0, active: 5 },
  ]

  it('orders grids worst first and charts only those with visits due', () => {
    expect(worstFirst(rows).map((r) => r.grid_name)).toEqual(['D', 'A', 'B', 'C'])
    expect(chartRows(rows).map((r) => r.grid_name)).toEqual(['D', 'A', 'B'])
    expect(chartRows(rows, 1)).toHaveLength(1)
  })

  it('checks a visit before it is sent', () => {
    expect(visitProblems({ visited_on: '2026-12-01', form: null, findings: 'x', next_visit_due: null }, TODAY)).toEqual({
      visited_on: 'registry.care.futureDate',
      form: 'registry.common.required',
      findings: 'registry.care.findingsTooShort',
    })
    expect(visitProblems({ visited_on: TODAY, form: 'home', findings: '情况稳定', next_visit_due: TODAY }, TODAY)).toEqual({
      next_visit_due: 'registry.care.nextAfter',
    })
    expect(defaultNextVisit('2026-02-15', 30)).toBe('2026-03-17')
  })
})

describe('unified social credit codes', () => {
  it('checks the GB 32100 check character', () => {
    expect(creditCodeProblem('91110000600037341L')).toBe(null)
    expect(creditCodeProblem('91110000600037341M')).toBe('checksum')
    expect(creditCodeProblem('9111')).toBe('length')
  })
})

describe('geolocation', () => {
  it('parses typed coordinates within range', () => {
    expect(parseCoordinate('117.4712345678', 'lon')).toBe(117.471235)
    expect(parseCoordinate('', 'lat')).toBe(null)
    expect(parseCoordinate('95', 'lat')).toBe('invalid')
    expect(parseCoordinate('abc', 'lon')).toBe('invalid')
  })

  it('turns a fix into coordinates, and refusals into a problem', async () => {
    const ok = { getCurrentPosition: (success: PositionCallback) => success({ coords: { longitude: 117.4712345, latitude: 32.9371234, accuracy: 12.4 } } as GeolocationPosition) }
    await expect(locate(ok)).resolves.toEqual({ lon: 117.471235, lat: 32.937123, accuracy: 12 })
    const denied = { getCurrentPosition: (_: PositionCallback, failure?: PositionErrorCallback | null) => failure?.({ code: 1, message: 'denied' } as GeolocationPositionError) }
    await expect(locate(denied)).rejects.toMatchObject({ problem: 'denied' })
    await expect(locate(undefined)).rejects.toBeInstanceOf(LocateError)
  })
})

describe('code tables store', () => {
  beforeEach(() => setActivePinia(createPinia()))
  afterEach(() => vi.unstubAllGlobals())

  it('loads once, labels codes by language and lists active options in order', async () => {
    const entries = [
      { table: 'sex', code: '2', label_zh: '女', label_en: 'Female', active: true, sort: 1 },
      { table: 'sex', code: '1', label_zh: '男', label_en: 'Male', active: true, sort: 0 },
      { table: 'sex', code: '9', label_zh: '未说明', label_en: 'Not stated', active: false, sort: 3 },
    ]
    const fetch = vi.fn(async () => new Response(JSON.stringify(entries), { headers: { 'content-type': 'application/json' } }))
    vi.stubGlobal('fetch', fetch)
    const store = useCodesStore()
    await Promise.all([store.load(), store.load()])
    await store.load()
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(store.label('sex', '1', 'zh-CN')).toBe('男')
    expect(store.label('sex', '1', 'en')).toBe('Male')
    expect(store.label('sex', '7', 'en')).toBe('7')
    expect(store.label('sex', null, 'en')).toBe('')
    expect(store.options('sex', 'zh-CN')).toEqual([
      { value: '1', label: '男' },
      { value: '2', label: '女' },
    ])
  })
})
