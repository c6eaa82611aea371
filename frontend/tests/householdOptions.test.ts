import { describe, expect, it } from 'vitest'
import type { Person } from '@/api/types'
import { householdCandidates } from '@/modules/registry/people/householdOptions'

function person(id: number, household_id: number | null, house_id: number | null, name = `王*${id}`): Person {
  return {
    id,
    household_id,
    house_id,
    name,
    person_type: 'registered',
    sex: '1',
    birth_year: 1980,
    age: 46,
    id_number: null,
    phone: null,
    address: null,
    grid_code: '340302001001001',
    community_code: '340302001001',
    status: 'active',
    review_status: 'approved',
    key_attention: false,
  }
}

describe('households to join', () => {
  it('lists each household once, those of the same house first, with up to three members', () => {
    const found = householdCandidates(
      [person(1, 9, 100), person(2, 5, 200), person(3, 9, 100), person(4, null, 100), person(5, 5, 200), person(6, 5, 201), person(7, 5, 202)],
      200,
    )
    expect(found.map((c) => c.id)).toEqual([5, 9])
    expect(found[0]).toEqual({ id: 5, members: ['王*2', '王*5', '王*6'], sameHouse: true })
    expect(found[1]!.sameHouse).toBe(false)
  })

  it('offers nothing when nobody found is in a household', () => {
    expect(householdCandidates([person(1, null, 1)], 1)).toEqual([])
  })
})
