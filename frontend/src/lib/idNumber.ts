/**
 * Citizen ID numbers (GB 11643-1999) checked in the browser for early feedback, mirroring the server's
 * `civicgrid.core.idnumber` (which stays the authority: it also checks the region code against the
 * national division list, which the browser does not carry).
 *
 * 18 characters: 6-digit region code, birth date YYYYMMDD, 3-digit sequence (odd = male, even = female),
 * check character (ISO 7064 MOD 11-2, a digit or X).
 */
export const ID_NUMBER_LENGTH = 18
export const EARLIEST_BIRTH_YEAR = 1900
const WEIGHTS = Array.from({ length: 17 }, (_, i) => 2 ** (17 - i) % 11) // 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
const CHECK_CHARS = '10X98765432'

export type IdNumberProblem =
  | 'length'
  | 'characters'
  | 'birth_date'
  | 'birth_date_future'
  | 'birth_date_too_early'
  | 'checksum'

export interface ParsedIdNumber {
  number: string
  regionCode: string
  /** YYYY-MM-DD */
  birthDate: string
  /** as in the sex code table: '1' male, '2' female */
  sex: '1' | '2'
}

export type IdNumberCheck =
  | { ok: true; value: ParsedIdNumber }
  | { ok: false; problem: IdNumberProblem; /** for messages: the 1-based position, the expected check character */ position?: number; expected?: string }

/** Full-width characters made ASCII, spaces removed, a final x upper-cased (as the server does). */
export function normaliseIdNumber(value: string): string {
  return value.normalize('NFKC').replace(/\s+/g, '').toUpperCase()
}

/** The check character for the first 17 digits. */
export function checkCharacter(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (WEIGHTS[i] as number)
  return CHECK_CHARS[sum % 11] as string
}

function realDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
}

/** Validate an ID number; `today` is YYYY-MM-DD (Asia/Shanghai in the app). */
export function checkIdNumber(value: string, today: string): IdNumberCheck {
  const number = normaliseIdNumber(value)
  if (number.length !== ID_NUMBER_LENGTH) return { ok: false, problem: 'length' }
  for (let i = 0; i < number.length; i++) {
    const char = number[i] as string
    const allowed = (char >= '0' && char <= '9') || (i === 17 && char === 'X')
    if (!allowed) return { ok: false, problem: 'characters', position: i + 1 }
  }
  const y = Number(number.slice(6, 10))
  const m = Number(number.slice(10, 12))
  const d = Number(number.slice(12, 14))
  if (!realDate(y, m, d)) return { ok: false, problem: 'birth_date' }
  const birthDate = `${number.slice(6, 10)}-${number.slice(10, 12)}-${number.slice(12, 14)}`
  if (birthDate > today) return { ok: false, problem: 'birth_date_future' }
  if (y < EARLIEST_BIRTH_YEAR) return { ok: false, problem: 'birth_date_too_early' }
  const expected = checkCharacter(number.slice(0, 17))
  if (number[17] !== expected) return { ok: false, problem: 'checksum', expected }
  const sequence = Number(number.slice(14, 17))
  return {
    ok: true,
    value: { number, regionCode: number.slice(0, 6), birthDate, sex: sequence % 2 ? '1' : '2' },
  }
}

/** A valid number for tests and examples. */
export function makeIdNumber(regionCode: string, birthDate: string, sequence: number): string {
  const first17 = `${regionCode}${birthDate.replaceAll('-', '')}${String(sequence).padStart(3, '0')}`
  return first17 + checkCharacter(first17)
}

// -- phone numbers (the server normalises and decides; this only catches obvious typos) --------------------

const MOBILE = /^1[3-9]\d{9}$/
const LANDLINE = /^0\d{2,3}-?\d{7,8}$/

/** Digits of a phone as typed: spaces, dashes and brackets removed, a +86/0086 prefix dropped. */
export function phoneDigits(value: string): string {
  let text = value.normalize('NFKC').replace(/[\s()（）.]/g, '')
  if (text.startsWith('+86')) text = text.slice(3)
  else if (text.startsWith('0086')) text = text.slice(4)
  return text
}

export function plausiblePhone(value: string): boolean {
  const digits = phoneDigits(value)
  return MOBILE.test(digits) || LANDLINE.test(digits)
}
