import { describe, expect, it } from 'vitest'
import { createProblems, formField, idNumberShapeOk, mediationProblems, type CreateDraft, type MediationDraft } from '@/modules/disputes/rules'

const TODAY = '2026-05-10'

function draft(extra: Partial<CreateDraft> = {}): CreateDraft {
  return {
    dispute_category: '04',
    category_code: '0101',
    mode: 'grid',
    grid_code: '340303001001001',
    lon: null,
    lat: null,
    summary: '邻里漏水纠纷',
    people_count: 2,
    resolution_deadline: '2026-05-20',
    parties: [
      { role: 'applicant', name: '张三', id_number: '', sex: null },
      { role: 'respondent', name: '李四', id_number: '34030219700501123x', sex: null },
    ],
    ...extra,
  }
}

describe('dispute form rules', () => {
  it('accept a complete dispute', () => {
    expect(createProblems(draft(), TODAY)).toEqual({})
    expect(createProblems(draft({ mode: 'point', grid_code: null, lon: 117.3, lat: 32.9 }), TODAY)).toEqual({})
  })

  it('name every missing or contradictory field', () => {
    const found = createProblems(
      draft({
        dispute_category: null,
        category_code: null,
        summary: ' ',
        people_count: 1,
        resolution_deadline: '2026-05-09',
        mode: 'point',
        lon: 117.3,
        lat: null,
        parties: [
          { role: 'applicant', name: '', id_number: '12345', sex: null },
          { role: 'respondent', name: '李四', id_number: '', sex: null },
        ],
      }),
      TODAY,
    )
    expect(Object.keys(found).sort()).toEqual(
      ['category_code', 'dispute_category', 'location', 'parties.0.id_number', 'parties.0.name', 'people_count', 'resolution_deadline', 'summary'].sort(),
    )
    expect(found.people_count).toEqual({ key: 'disputes.rule.peopleCount', params: { n: 2 } })
  })

  it('check only the shape of an ID number (the server checks the rest)', () => {
    expect(idNumberShapeOk('34030219700501123X')).toBe(true)
    expect(idNumberShapeOk(' 34030219700501123x ')).toBe(true)
    expect(idNumberShapeOk('3403021970050112')).toBe(false)
    expect(idNumberShapeOk('X40302197005011231')).toBe(false)
  })

  it('refuse a mediation in the future or an agreement without terms', () => {
    const ok: MediationDraft = { mediated_on: TODAY, method: 'people', organisation: '人民调解委员会', mediator: '王', result: '达成一致', agreement: '', agreement_reached: false }
    expect(mediationProblems(ok, TODAY)).toEqual({})
    const found = mediationProblems({ ...ok, mediated_on: '2026-05-11', mediator: ' ', agreement_reached: true }, TODAY)
    expect(Object.keys(found).sort()).toEqual(['agreement', 'mediated_on', 'mediator'])
  })

  it('map the server fields to the form fields', () => {
    expect(formField('parties[3].id_number')).toBe('parties.3.id_number')
    expect(formField('people_count')).toBe('people_count')
  })
})
