/**
 * The browser's side of an import: read a CSV's header row (UTF-8 or GBK, as the server accepts), map its
 * columns to the entity's fields, and check that the required ones are mapped before anything is sent.
 * XLSX files are not parsed here: their column headings are typed or picked by the user, and the server
 * checks them against the file (422 `import_rejected` with every problem) before any row is read.
 */

export type ImportEntity = 'people' | 'houses'
export type ImportMode = 'apply_valid' | 'all_or_nothing'
export type FileKind = 'csv' | 'xlsx'

/** What `GET /registry/import-fields` says of a field. */
export interface ImportField {
  name: string
  description: string
  required: boolean
  aliases: string[]
}

/** field → the file column holding it (null: not imported). */
export type ColumnChoice = Record<string, string | null>

/**
 * Required fields that stand in for each other: a person needs a house id or a grid code. The API marks
 * both `required` ("…or one of its group") without naming the group, so the groups are spelled out here.
 */
export const ALTERNATIVES: Record<ImportEntity, string[][]> = {
  people: [['house_id', 'grid_code']],
  houses: [],
}

export const MAX_HEADER_BYTES = 256 * 1024

export class HeaderError extends Error {
  constructor(readonly reason: 'empty' | 'utf16' | 'encoding' | 'too_long' | 'duplicate', readonly detail = '') {
    super(detail ? `${reason}: ${detail}` : reason)
    this.name = 'HeaderError'
  }
}

export function fileKind(name: string): FileKind | null {
  const lower = name.toLowerCase()
  if (lower.endsWith('.csv') || lower.endsWith('.txt')) return 'csv'
  if (lower.endsWith('.xlsx')) return 'xlsx'
  return null
}

/**
 * The bytes of the first record: up to the first line feed outside double quotes. Safe for GBK too —
 * its second bytes are ≥ 0x40, so 0x0A and 0x22 inside a character cannot occur.
 */
export function firstRecordBytes(bytes: Uint8Array): Uint8Array {
  let quoted = false
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (b === 0x22) quoted = !quoted
    else if (b === 0x0a && !quoted) return bytes.subarray(0, i)
  }
  if (bytes.length >= MAX_HEADER_BYTES) throw new HeaderError('too_long')
  return bytes
}

/** Decode as UTF-8 (a BOM is dropped) or, if that fails, as GBK — as the server decides. */
export function decodeHeader(bytes: Uint8Array): { text: string; encoding: 'utf-8' | 'gbk' } {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) throw new HeaderError('utf16')
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(body), encoding: 'utf-8' }
  } catch {
    try {
      return { text: new TextDecoder('gbk', { fatal: true }).decode(body), encoding: 'gbk' }
    } catch {
      throw new HeaderError('encoding')
    }
  }
}

/** Split one CSV record (quotes and doubled quotes as in RFC 4180); comma, or tab when there is no comma. */
export function splitRecord(line: string): string[] {
  const text = line.replace(/\r$/, '')
  const delimiter = text.includes('\t') && !text.includes(',') ? '\t' : ','
  const cells: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === delimiter) {
      cells.push(cell)
      cell = ''
    } else cell += c
  }
  cells.push(cell)
  return cells
}

/** The header's column names, trimmed, trailing empty ones dropped (as the server reads them). */
export function headerColumns(line: string): string[] {
  const cells = splitRecord(line).map((c) => c.trim())
  while (cells.length && !cells[cells.length - 1]) cells.pop()
  if (!cells.length) throw new HeaderError('empty')
  const seen = new Set<string>()
  for (const cell of cells) {
    if (cell && seen.has(cell)) throw new HeaderError('duplicate', cell)
    seen.add(cell)
  }
  return cells
}

/** Read a CSV file's header row. */
export async function readCsvHeader(file: Blob): Promise<{ columns: string[]; encoding: 'utf-8' | 'gbk' }> {
  const bytes = new Uint8Array(await file.slice(0, MAX_HEADER_BYTES).arrayBuffer())
  const { text, encoding } = decodeHeader(firstRecordBytes(bytes))
  return { columns: headerColumns(text), encoding }
}

/** Columns named like a field or one of its usual headings map to it (the server's automatic mapping). */
export function autoChoice(fields: readonly ImportField[], columns: readonly string[]): ColumnChoice {
  const byName = new Map<string, string>()
  for (const field of fields) {
    for (const alias of [field.name, ...field.aliases]) if (!byName.has(alias.toLowerCase())) byName.set(alias.toLowerCase(), field.name)
  }
  const choice: ColumnChoice = Object.fromEntries(fields.map((f) => [f.name, null]))
  for (const column of columns) {
    const field = byName.get(column.trim().toLowerCase())
    if (field && choice[field] === null) choice[field] = column
  }
  return choice
}

/** The API's mapping `{column: field}` from the choice (unmapped fields left out). */
export function toMapping(choice: ColumnChoice): Record<string, string> {
  const mapping: Record<string, string> = {}
  for (const [field, column] of Object.entries(choice)) if (column) mapping[column] = field
  return mapping
}

/** A saved `{column: field}` mapping as a choice over these fields; unknown fields are ignored. */
export function fromMapping(fields: readonly ImportField[], mapping: Record<string, string>): ColumnChoice {
  const choice: ColumnChoice = Object.fromEntries(fields.map((f) => [f.name, null]))
  for (const [column, field] of Object.entries(mapping)) if (field in choice) choice[field] = column
  return choice
}

/** Required groups not mapped yet, each as its field names (["house_id", "grid_code"] = one of them). */
export function missingRequired(entity: ImportEntity, fields: readonly ImportField[], choice: ColumnChoice): string[][] {
  const groups = ALTERNATIVES[entity]
  const inGroup = new Set(groups.flat())
  const required = fields.filter((f) => f.required).map((f) => f.name)
  const all = [...required.filter((name) => !inGroup.has(name)).map((name) => [name]), ...groups.filter((g) => g.some((n) => required.includes(n)))]
  return all.filter((group) => !group.some((name) => choice[name]))
}

/** Columns of the choice the file does not have (a saved mapping made for another file). */
export function unknownColumns(choice: ColumnChoice, columns: readonly string[]): string[] {
  return Object.values(choice).filter((c): c is string => !!c && !columns.includes(c))
}

/** Columns chosen for more than one field (the API maps each column to one field). */
export function reusedColumns(choice: ColumnChoice): string[] {
  const count = new Map<string, number>()
  for (const column of Object.values(choice)) if (column) count.set(column, (count.get(column) ?? 0) + 1)
  return [...count].filter(([, n]) => n > 1).map(([c]) => c)
}

/** The job's progress in percent, or null while the total is not known. */
export function percent(processed: number, total: number | null | undefined): number | null {
  if (!total) return null
  return Math.max(0, Math.min(100, Math.round((processed / total) * 100)))
}

export const FINISHED = new Set(['succeeded', 'failed'])
