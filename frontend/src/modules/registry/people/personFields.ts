/** The person's data items (GB/T 31000 实有人口) by section, for the detail page and the edit form. */
import type { PersonType } from './personRules'

export type FieldKind = 'text' | 'code' | 'date' | 'bool' | 'masked'
export type Section = 'basic' | 'identity' | 'residence' | 'floating' | 'foreign'

export interface PersonField {
  key: string
  /** i18n key under registry.person */
  label: string
  kind: FieldKind
  table?: string
  section: Section
  /** only for these person types */
  types?: PersonType[]
  max?: number
}

export const PERSON_FIELDS: readonly PersonField[] = [
  { key: 'name', label: 'name', kind: 'masked', section: 'basic', max: 100 },
  { key: 'former_name', label: 'formerName', kind: 'text', section: 'basic', max: 100 },
  { key: 'sex', label: 'sex', kind: 'code', table: 'sex', section: 'basic' },
  { key: 'ethnicity', label: 'ethnicity', kind: 'code', table: 'ethnicity', section: 'basic' },
  { key: 'native_place', label: 'nativePlace', kind: 'text', section: 'basic', max: 6 },
  { key: 'marital_status', label: 'maritalStatus', kind: 'code', table: 'marital_status', section: 'basic' },
  { key: 'political_status', label: 'politicalStatus', kind: 'code', table: 'political_status', section: 'basic' },
  { key: 'education', label: 'education', kind: 'code', table: 'education', section: 'basic' },
  { key: 'religion', label: 'religion', kind: 'code', table: 'religion', section: 'basic' },
  { key: 'occupation', label: 'occupation', kind: 'text', section: 'basic', max: 60 },
  { key: 'employer', label: 'employer', kind: 'text', section: 'basic', max: 100 },
  { key: 'key_attention', label: 'keyAttention', kind: 'bool', section: 'basic' },
  { key: 'id_number', label: 'idNumber', kind: 'masked', section: 'identity', max: 20 },
  { key: 'phone', label: 'phone', kind: 'masked', section: 'identity', max: 20 },
  { key: 'hukou_address', label: 'hukouAddress', kind: 'text', section: 'residence', max: 250 },
  { key: 'current_address', label: 'currentAddress', kind: 'text', section: 'residence', max: 250 },
  { key: 'relation_to_head', label: 'relationToHead', kind: 'code', table: 'relation', section: 'residence' },
  { key: 'hukou_consistent', label: 'hukouConsistent', kind: 'bool', section: 'residence', types: ['registered'] },
  { key: 'move_in_reason', label: 'moveInReason', kind: 'code', table: 'move_in_reason', section: 'floating', types: ['floating'] },
  { key: 'permit_type', label: 'permitType', kind: 'code', table: 'permit_type', section: 'floating', types: ['floating'] },
  { key: 'permit_no', label: 'permitNo', kind: 'text', section: 'floating', types: ['floating'], max: 40 },
  { key: 'permit_expiry', label: 'permitExpiry', kind: 'date', section: 'floating', types: ['floating'] },
  { key: 'residence_type', label: 'residenceType', kind: 'code', table: 'residence_type', section: 'floating', types: ['floating'] },
  { key: 'foreign_surname', label: 'foreignSurname', kind: 'text', section: 'foreign', types: ['foreign'], max: 80 },
  { key: 'foreign_given_name', label: 'foreignGivenName', kind: 'text', section: 'foreign', types: ['foreign'], max: 80 },
  { key: 'nationality', label: 'nationality', kind: 'text', section: 'foreign', types: ['foreign'], max: 3 },
  { key: 'document_type', label: 'documentType', kind: 'code', table: 'document_type', section: 'foreign', types: ['foreign'] },
  { key: 'document_no', label: 'documentNo', kind: 'masked', section: 'foreign', types: ['foreign'], max: 40 },
  { key: 'document_expiry', label: 'documentExpiry', kind: 'date', section: 'foreign', types: ['foreign'] },
]

export const SECTIONS: readonly Section[] = ['basic', 'identity', 'residence', 'floating', 'foreign']

export function fieldsFor(type: string, section: Section): PersonField[] {
  return PERSON_FIELDS.filter((f) => f.section === section && (!f.types || f.types.includes(type as PersonType)))
}

/** The PATCH body: fields whose value changed; masked fields (typed anew) only when filled in. */
export function personPatch(before: Record<string, unknown>, form: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {}
  for (const field of PERSON_FIELDS) {
    if (!(field.key in form)) continue
    const value = form[field.key]
    if (field.kind === 'masked') {
      if (typeof value === 'string' && value.trim()) patch[field.key] = value.trim()
      continue
    }
    const normalised = typeof value === 'string' ? value.trim() || null : (value ?? null)
    if (normalised !== (before[field.key] ?? null)) patch[field.key] = normalised
  }
  if (typeof form.birth_date === 'string' && form.birth_date) patch.birth_date = form.birth_date
  return patch
}
