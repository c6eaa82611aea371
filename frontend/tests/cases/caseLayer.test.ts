import { describe, expect, it } from 'vitest'
import { caseFeatures, caseMark, inside, requestBox } from '@/modules/geo/caseLayer'
import type { CaseRow } from '@/modules/cases/types'

const row = (over: Partial<CaseRow>): CaseRow =>
  ({ id: 1, code: 'SJ1', title: '井盖缺失', status: 'accepted', lon: 117.4, lat: 32.9, card: null, overdue: false, ...over }) as CaseRow

describe('the case layer', () => {
  it('colours a case by its worst state: red card, yellow card, overdue, running', () => {
    expect(caseMark({ card: 'red', overdue: true })).toBe('red')
    expect(caseMark({ card: 'yellow', overdue: true })).toBe('yellow')
    expect(caseMark({ card: null, overdue: true })).toBe('overdue')
    expect(caseMark({ card: null, overdue: false })).toBe('normal')
  })

  it('asks for the view padded by a quarter on each side, within the world', () => {
    expect(requestBox([117, 32, 118, 33])).toEqual([116.75, 31.75, 118.25, 33.25])
    expect(requestBox([-180, -90, 0, 0])).toEqual([-180, -90, 45, 22.5])
  })

  it('knows when the view lies inside the last box', () => {
    expect(inside([117.1, 32.1, 117.9, 32.9], [117, 32, 118, 33])).toBe(true)
    expect(inside([116.9, 32.1, 117.9, 32.9], [117, 32, 118, 33])).toBe(false)
  })

  it('makes one point per case with what the popup and the colours need', () => {
    const collection = caseFeatures([row({ card: 'yellow' })])
    expect(collection.features).toEqual([
      {
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [117.4, 32.9] },
        properties: { id: 1, code: 'SJ1', title: '井盖缺失', status: 'accepted', mark: 'yellow' },
      },
    ])
  })
})
