/**
 * Client-side checks of the person form, for early feedback; the server checks again and its answer wins.
 * Each problem is an i18n key under `registry.idCheck` with its parameters.
 */
import { checkIdNumber, normaliseIdNumber, plausiblePhone } from '@/lib/idNumber'

export type PersonType = 'registered' | 'floating' | 'foreign'

export interface PersonForm {
  person_type: PersonType
  name: string
  sex: string | null
  birth_date: string | null
  id_number: string
  phone: string
  nationality: string | null
  document_type: string | null
  document_no: string
  [key: string]: unknown
}

export interface Problem {
  key: string
  params?: Record<string, string | number>
}

export type Problems = Partial<Record<string, Problem>>

/**
 * Problems of the form by field. `creating`: a new person (the ID number is required for citizens);
 * when correcting, an empty ID number or phone means "unchanged".
 */
export function personProblems(form: PersonForm, today: string, creating: boolean): Problems {
  const problems: Problems = {}
  if (creating && !form.name.trim()) problems.name = { key: 'registry.common.required' }
  if (creating && !form.sex) problems.sex = { key: 'registry.common.required' }
  if (creating && !form.birth_date) problems.birth_date = { key: 'registry.common.required' }
  if (form.birth_date && form.birth_date > today) problems.birth_date = { key: 'registry.idCheck.birth_date_future' }

  const id = form.id_number.trim()
  if (id) {
    const check = checkIdNumber(id, today)
    if (!check.ok) {
      problems.id_number = {
        key: `registry.idCheck.${check.problem}`,
        params: { n: check.position ?? 0, expected: check.expected ?? '' },
      }
    } else {
      if (form.birth_date && form.birth_date !== check.value.birthDate) {
        problems.birth_date = { key: 'registry.idCheck.birthMismatch', params: { date: check.value.birthDate } }
      }
      if ((form.sex === '1' || form.sex === '2') && form.sex !== check.value.sex) {
        problems.sex = { key: 'registry.idCheck.sexMismatch' }
      }
    }
  } else if (creating && form.person_type !== 'foreign') {
    problems.id_number = { key: 'registry.idCheck.idRequired' }
  }

  if (form.phone.trim() && !plausiblePhone(form.phone)) problems.phone = { key: 'registry.idCheck.phone' }

  if (form.person_type === 'foreign' && creating) {
    if (!form.nationality) problems.nationality = { key: 'registry.idCheck.foreignRequired' }
    if (!form.document_type) problems.document_type = { key: 'registry.idCheck.foreignRequired' }
    if (!form.document_no.trim()) problems.document_no = { key: 'registry.idCheck.foreignRequired' }
  }
  if (form.nationality && !/^[A-Z]{3}$/.test(form.nationality)) {
    problems.nationality = { key: 'registry.idCheck.nationality' }
  }
  return problems
}

/** Fill sex and birth date from a valid ID number when they are still empty (saves typing on a phone). */
export function fillFromIdNumber(form: PersonForm, today: string): void {
  const check = checkIdNumber(form.id_number, today)
  if (!check.ok) return
  form.id_number = normaliseIdNumber(form.id_number)
  if (!form.birth_date) form.birth_date = check.value.birthDate
  if (!form.sex) form.sex = check.value.sex
}

export function emptyPersonForm(type: PersonType = 'registered'): PersonForm {
  return {
    person_type: type,
    name: '',
    sex: null,
    birth_date: null,
    id_number: '',
    phone: '',
    nationality: null,
    document_type: null,
    document_no: '',
  }
}
