/** Client-side checks of the user form; the server checks again and its message wins. */
export const USERNAME_PATTERN = /^[A-Za-z0-9._-]{3,64}$/
export const PASSWORD_MIN_LENGTH = 10 // the server's MIN_PASSWORD_LENGTH

export function validUsername(value: string): boolean {
  return USERNAME_PATTERN.test(value)
}

export function validPassword(value: string): boolean {
  return value.length >= PASSWORD_MIN_LENGTH
}

/** Only the fields that changed, for PATCH. */
export function changedFields<T extends Record<string, unknown>>(before: T, after: T): Partial<T> {
  const patch: Partial<T> = {}
  for (const key of Object.keys(after) as (keyof T)[]) {
    if (after[key] !== before[key]) patch[key] = after[key]
  }
  return patch
}
