/** Households a person could join: those of the people a search finds, each once, the same house first. */
import type { Person } from '@/api/types'

export interface HouseholdCandidate {
  id: number
  /** members found by the search (masked names), at most three */
  members: string[]
  sameHouse: boolean
}

export function householdCandidates(people: readonly Person[], houseId: number | null): HouseholdCandidate[] {
  const byId = new Map<number, HouseholdCandidate>()
  for (const p of people) {
    if (p.household_id === null) continue
    const entry = byId.get(p.household_id) ?? { id: p.household_id, members: [], sameHouse: false }
    if (entry.members.length < 3 && !entry.members.includes(p.name)) entry.members.push(p.name)
    if (houseId !== null && p.house_id === houseId) entry.sameHouse = true
    byId.set(p.household_id, entry)
  }
  return [...byId.values()].sort((a, b) => Number(b.sameHouse) - Number(a.sameHouse) || a.id - b.id)
}
