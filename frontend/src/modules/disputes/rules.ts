/**
 * Client-side checks of the dispute forms (the server checks again and has the last word): each returns
 * field → i18n key of the problem (with its parameters), so a form shows them next to the fields.
 */
export interface Problem {
  key: string
  params?: Record<string, unknown>
}
export type Problems = Record<string, Problem>

export interface PartyDraft {
  role: string
  name: string
  id_number: string
  sex: string | null
}

export interface CreateDraft {
  dispute_category: string | null
  category_code: string | null
  mode: 'grid' | 'point'
  grid_code: string | null
  lon: number | null
  lat: number | null
  summary: string
  people_count: number
  resolution_deadline: string | null
  parties: PartyDraft[]
}

const ID_SHAPE = /^\d{17}[\dX]$/

/** An 18-character ID number shape (the checksum and the rest are the server's). */
export function idNumberShapeOk(value: string): boolean {
  return ID_SHAPE.test(value.trim().toUpperCase())
}

export function createProblems(draft: CreateDraft, today: string): Problems {
  const found: Problems = {}
  const required = { key: 'disputes.required' }
  if (!draft.dispute_category) found.dispute_category = required
  if (!draft.category_code) found.category_code = { key: 'disputes.create_.noCaseCategory' }
  if (draft.summary.trim().length < 2) found.summary = required
  if (!draft.resolution_deadline) found.resolution_deadline = required
  else if (draft.resolution_deadline < today) found.resolution_deadline = { key: 'disputes.rule.deadline' }
  if (draft.mode === 'grid' ? !draft.grid_code : draft.lon === null || draft.lat === null) {
    found.location = { key: 'disputes.rule.location' }
  }
  const named = draft.parties.length
  if (!Number.isInteger(draft.people_count) || draft.people_count < Math.max(1, named)) {
    found.people_count = { key: 'disputes.rule.peopleCount', params: { n: named } }
  }
  draft.parties.forEach((party, i) => {
    if (!party.name.trim()) found[`parties.${i}.name`] = required
    if (party.id_number.trim() && !idNumberShapeOk(party.id_number)) found[`parties.${i}.id_number`] = { key: 'disputes.rule.idNumber' }
  })
  return found
}

export interface MediationDraft {
  mediated_on: string | null
  method: string
  organisation: string
  mediator: string
  result: string
  agreement: string
  agreement_reached: boolean
}

export function mediationProblems(draft: MediationDraft, today: string): Problems {
  const found: Problems = {}
  const required = { key: 'disputes.required' }
  if (!draft.mediated_on) found.mediated_on = required
  else if (draft.mediated_on > today) found.mediated_on = { key: 'disputes.rule.future' }
  for (const field of ['organisation', 'mediator', 'result'] as const) {
    if (!draft[field].trim()) found[field] = required
  }
  if (draft.agreement_reached && !draft.agreement.trim()) found.agreement = { key: 'disputes.rule.agreement' }
  return found
}

/** The server's 422 `details` fields as the form's keys (`parties[0].name` → `parties.0.name`). */
export function formField(serverField: string): string {
  return serverField.replace(/\[(\d+)\]/g, '.$1')
}
