/** Turning API errors into messages and per-field problems for forms. */
import { ApiError } from '@/api/client'

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message
  return error instanceof Error ? error.message : String(error)
}

/** `details: [{field, problem}]` of a 422 as field → problem (the first problem of each field). */
export function fieldProblems(error: unknown): Record<string, string> {
  const problems: Record<string, string> = {}
  if (!(error instanceof ApiError) || !Array.isArray(error.details)) return problems
  for (const item of error.details as unknown[]) {
    if (typeof item !== 'object' || item === null) continue
    const { field, problem, loc, msg } = item as Record<string, unknown>
    const name = typeof field === 'string' ? field : Array.isArray(loc) ? String(loc[loc.length - 1]) : null
    const text = typeof problem === 'string' ? problem : typeof msg === 'string' ? msg : null
    if (name && text && !(name in problems)) problems[name] = text
  }
  return problems
}

/** Drop empty strings and nulls so optional fields are simply omitted from a create body. */
export function compact<T extends Record<string, unknown>>(value: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [key, v] of Object.entries(value)) {
    if (v === '' || v === null || v === undefined) continue
    out[key as keyof T] = (typeof v === 'string' ? v.trim() : v) as T[keyof T]
  }
  return out
}
