/**
 * Organisations, key places and schools share one list page and one dialog; what differs is described here:
 * the endpoint, the type field with its code table, and the data items (GB/T 31000) with their kinds.
 */
export type EntityKind = 'organisations' | 'places' | 'schools'
export type EntityFieldKind = 'text' | 'code' | 'int' | 'number' | 'bool' | 'date' | 'orgKind'

export interface EntityField {
  key: string
  /** i18n key under registry.org */
  label: string
  kind: EntityFieldKind
  table?: string
  required?: boolean
  max?: number
  /** shown as a column of the list */
  column?: boolean
}

export interface EntityConfig {
  kind: EntityKind
  typeField: string
  typeTable: string
  fields: EntityField[]
}

const location: EntityField[] = [
  { key: 'address', label: 'registry.common.address', kind: 'text', max: 250, column: true },
  { key: 'lon', label: 'registry.org.lon', kind: 'number' },
  { key: 'lat', label: 'registry.org.lat', kind: 'number' },
]

export const ENTITIES: Record<EntityKind, EntityConfig> = {
  organisations: {
    kind: 'organisations',
    typeField: 'org_type',
    typeTable: 'org_type',
    fields: [
      { key: 'name', label: 'registry.org.name', kind: 'text', required: true, max: 200, column: true },
      { key: 'kind', label: 'registry.org.kind', kind: 'orgKind', required: true, column: true },
      { key: 'org_type', label: 'registry.org.type', kind: 'code', table: 'org_type', column: true },
      { key: 'credit_code', label: 'registry.org.creditCode', kind: 'text', max: 18, column: true },
      { key: 'licence_no', label: 'registry.org.licenceNo', kind: 'text', max: 40 },
      { key: 'registration_no', label: 'registry.org.registrationNo', kind: 'text', max: 40 },
      { key: 'registration_authority', label: 'registry.org.registrationAuthority', kind: 'text', max: 100 },
      { key: 'approval_date', label: 'registry.org.approvalDate', kind: 'date' },
      { key: 'legal_rep_name', label: 'registry.org.legalRep', kind: 'text', max: 100 },
      { key: 'security_officer_name', label: 'registry.org.securityOfficer', kind: 'text', max: 100 },
      { key: 'staff_count', label: 'registry.org.staffCount', kind: 'int', column: true },
      { key: 'hazardous_chemicals', label: 'registry.org.hazardousChemicals', kind: 'bool', column: true },
      { key: 'hazard_type', label: 'registry.org.hazardType', kind: 'text', max: 40 },
      { key: 'attention_level', label: 'registry.org.attentionLevel', kind: 'code', table: 'attention_level', column: true },
      { key: 'risk_level', label: 'registry.org.riskLevel', kind: 'code', table: 'risk_level', column: true },
      { key: 'status', label: 'registry.org.status', kind: 'text', max: 20 },
      ...location,
    ],
  },
  places: {
    kind: 'places',
    typeField: 'place_type',
    typeTable: 'place_type',
    fields: [
      { key: 'name', label: 'registry.org.name', kind: 'text', required: true, max: 200, column: true },
      { key: 'place_type', label: 'registry.org.type', kind: 'code', table: 'place_type', required: true, column: true },
      { key: 'person_in_charge', label: 'registry.org.personInCharge', kind: 'text', max: 100, column: true },
      { key: 'supervising_unit', label: 'registry.org.supervisingUnit', kind: 'text', max: 100 },
      { key: 'key_attribute', label: 'registry.org.keyAttribute', kind: 'text', max: 100 },
      { key: 'staff_count', label: 'registry.org.staffCount', kind: 'int', column: true },
      { key: 'area_m2', label: 'registry.org.area', kind: 'number' },
      { key: 'attention_level', label: 'registry.org.attentionLevel', kind: 'code', table: 'attention_level', column: true },
      ...location,
    ],
  },
  schools: {
    kind: 'schools',
    typeField: 'school_type',
    typeTable: 'school_type',
    fields: [
      { key: 'name', label: 'registry.org.name', kind: 'text', required: true, max: 200, column: true },
      { key: 'school_type', label: 'registry.org.type', kind: 'code', table: 'school_type', required: true, column: true },
      { key: 'head_name', label: 'registry.org.headName', kind: 'text', max: 100 },
      { key: 'security_lead', label: 'registry.org.securityLead', kind: 'text', max: 100, column: true },
      { key: 'students', label: 'registry.org.students', kind: 'int', column: true },
      { key: 'staff', label: 'registry.org.staff', kind: 'int', column: true },
      { key: 'guards', label: 'registry.org.guards', kind: 'int', column: true },
      { key: 'supervising_authority', label: 'registry.org.supervisingAuthority', kind: 'text', max: 100 },
      ...location,
    ],
  },
}

/** The unified social credit code's check character (GB 32100), as the server checks it. */
export function creditCodeProblem(code: string): 'length' | 'checksum' | null {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY'
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
  const value = code.trim().toUpperCase()
  if (value.length !== 18 || [...value].some((c) => !alphabet.includes(c))) return 'length'
  let total = 0
  for (let i = 0; i < 17; i++) total += alphabet.indexOf(value[i] as string) * (weights[i] as number)
  return value[17] === alphabet[(31 - (total % 31)) % 31] ? null : 'checksum'
}
