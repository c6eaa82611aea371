/**
 * Display helpers for masked values. The server masks names (`张*明`), ID numbers (`340302********1234`)
 * and phones (`138****5678`) — the browser never masks or unmasks anything itself; it only shows which
 * parts are hidden and gives empty values one placeholder.
 */
export const MASK_CHAR = '*'
export const EMPTY = '—'

export interface MaskSegment {
  text: string
  masked: boolean
}

/** True when the value carries the server's mask characters. */
export function isMasked(value: string | null | undefined): boolean {
  return !!value && value.includes(MASK_CHAR)
}

/** Split a masked value into visible and hidden runs (hidden runs are styled, and read as "hidden"). */
export function maskSegments(value: string | null | undefined): MaskSegment[] {
  if (!value) return []
  const segments: MaskSegment[] = []
  for (const char of value) {
    const masked = char === MASK_CHAR
    const last = segments[segments.length - 1]
    if (last && last.masked === masked) last.text += char
    else segments.push({ text: char, masked })
  }
  return segments
}

/** The value, or the placeholder for empty values. */
export function display(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return EMPTY
  const text = String(value).trim()
  return text ? text : EMPTY
}

/** How many characters are hidden (for screen readers: "4 characters hidden"). */
export function hiddenCount(value: string | null | undefined): number {
  return value ? [...value].filter((c) => c === MASK_CHAR).length : 0
}

/** Today in Asia/Shanghai as YYYY-MM-DD (the registry's dates are local dates). */
export function shanghaiToday(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now)
}
