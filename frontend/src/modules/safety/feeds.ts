/**
 * The feed pages' logic apart from Vue: a saved mapping as the form edits it (one file column per record
 * field, a list of category rows) and back, checked before it is sent; and a feed import job's result read
 * into counts, unknown categories and the problems row by row.
 */

/** `{file column: field}` (as stored) → `{field: file column}` (as the form shows it). */
export function columnsByField(columns: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [column, field] of Object.entries(columns)) if (!(field in out)) out[field] = column
  return out
}

/** The form's `{field: file column}` → `{file column: field}`, blanks left out (those fields are found by heading). */
export function columnsToSave(byField: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [field, column] of Object.entries(byField)) {
    const name = column.trim()
    if (name) out[name] = field
  }
  return out
}

export interface CategoryRow {
  label: string
  code: string
}

export function categoryRows(categories: Readonly<Record<string, string>>): CategoryRow[] {
  return Object.entries(categories).map(([label, code]) => ({ label, code }))
}

export function categoriesToSave(rows: readonly CategoryRow[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const row of rows) {
    const label = row.label.trim()
    if (label && row.code) out[label] = row.code
  }
  return out
}

export type MappingProblem =
  | { key: 'nameRequired' }
  | { key: 'fallbackRequired' }
  | { key: 'columnTwice'; column: string }
  | { key: 'labelTwice'; label: string }
  | { key: 'labelIncomplete'; row: number }

/** What would make the server refuse the mapping, found before sending it (the server checks again). */
export function mappingProblems(form: {
  name: string
  byField: Readonly<Record<string, string>>
  rows: readonly CategoryRow[]
  unknown: string
  fallback: string | null
}): MappingProblem[] {
  const problems: MappingProblem[] = []
  if (!form.name.trim()) problems.push({ key: 'nameRequired' })
  if (form.unknown === 'fallback' && !form.fallback) problems.push({ key: 'fallbackRequired' })
  const seen = new Set<string>()
  for (const column of Object.values(form.byField).map((c) => c.trim())) {
    if (!column) continue
    if (seen.has(column)) problems.push({ key: 'columnTwice', column })
    seen.add(column)
  }
  const labels = new Set<string>()
  form.rows.forEach((row, i) => {
    const label = row.label.trim()
    if (!label && !row.code) return
    if (!label || !row.code) {
      problems.push({ key: 'labelIncomplete', row: i + 1 })
      return
    }
    if (labels.has(label)) problems.push({ key: 'labelTwice', label })
    labels.add(label)
  })
  return problems
}

// -- import results -----------------------------------------------------------------------------------------

export interface FeedCounts {
  rows: number
  created: number
  duplicates: number
  failed: number
}

export interface UnknownCategory {
  label: string
  rows: number
  action: string
}

export interface RowProblem {
  row: number
  column: string
  field: string
  value: string
  reason: string
}

function obj(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

function int(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

function str(value: unknown): string {
  return value === null || value === undefined ? '' : String(value)
}

/** The counts of a finished import (missing ones are 0); null before the job has a result. */
export function feedCounts(result: unknown): FeedCounts | null {
  const r = obj(result)
  if (!('rows' in r)) return null
  return { rows: int(r.rows), created: int(r.created), duplicates: int(r.duplicates), failed: int(r.failed) }
}

export function unknownCategories(result: unknown): UnknownCategory[] {
  const list = obj(result).unknown_categories
  if (!Array.isArray(list)) return []
  return list.map(obj).map((u) => ({ label: str(u.label), rows: int(u.rows), action: str(u.action) }))
}

export function rowProblems(result: unknown): RowProblem[] {
  const list = obj(result).first_problems
  if (!Array.isArray(list)) return []
  return list.map(obj).map((p) => ({ row: int(p.row), column: str(p.column), field: str(p.field), value: str(p.value), reason: str(p.reason) }))
}

/** A file's kind from its name, as the server sniffs it (CSV, JSON array, JSON Lines); null: not a feed file. */
export function feedFileKind(name: string): 'csv' | 'json' | 'jsonl' | null {
  const lower = name.toLowerCase()
  if (lower.endsWith('.csv') || lower.endsWith('.txt')) return 'csv'
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl'
  if (lower.endsWith('.json')) return 'json'
  return null
}
