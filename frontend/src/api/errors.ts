/**
 * One error type for every failed API call.
 *
 * The server answers errors as `{"error": {"code", "message", "details"}}`; anything else (a proxy's HTML
 * page, FastAPI's own `{"detail": ...}` before the app's handler runs, a dropped connection) is turned
 * into the same shape so pages handle exactly one kind of error.
 */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown

  constructor(status: number, code: string, message: string, details: unknown = null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
  }

  /** `details.locked_until` of an `account_locked` answer, if there is one. */
  get lockedUntil(): string | null {
    const value = isRecord(this.details) ? this.details.locked_until : undefined
    return typeof value === 'string' ? value : null
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  422: 'invalid_input',
  423: 'account_locked',
  429: 'too_many_requests',
}

function fallbackCode(status: number): string {
  return STATUS_CODES[status] ?? (status >= 500 ? 'server_error' : 'http_error')
}

/** Build an ApiError from a status and whatever body came back (parsed JSON, text or nothing). */
export function parseApiError(status: number, body: unknown, statusText = ''): ApiError {
  if (isRecord(body) && isRecord(body.error)) {
    const { code, message, details } = body.error
    return new ApiError(
      status,
      typeof code === 'string' && code ? code : fallbackCode(status),
      typeof message === 'string' && message ? message : statusText || `HTTP ${status}`,
      details ?? null,
    )
  }
  if (isRecord(body) && 'detail' in body) {
    // FastAPI's default shapes: {"detail": "text"} or {"detail": [{loc, msg, type}, ...]}.
    const detail = body.detail
    if (typeof detail === 'string') return new ApiError(status, fallbackCode(status), detail, null)
    if (Array.isArray(detail)) {
      const message = detail
        .map((item) => {
          if (!isRecord(item)) return String(item)
          const loc = Array.isArray(item.loc) ? item.loc.filter((p) => p !== 'body').join('.') : ''
          return loc ? `${loc}: ${String(item.msg)}` : String(item.msg)
        })
        .join('; ')
      return new ApiError(status, fallbackCode(status), message || `HTTP ${status}`, detail)
    }
  }
  if (typeof body === 'string' && body.trim() && body.length < 300 && !body.trimStart().startsWith('<')) {
    return new ApiError(status, fallbackCode(status), body.trim(), null)
  }
  return new ApiError(status, fallbackCode(status), statusText || `HTTP ${status}`, null)
}

/** A request that never got an answer (server down, offline, CORS, aborted). */
export function networkError(cause: unknown): ApiError {
  const message = cause instanceof Error ? cause.message : String(cause)
  return new ApiError(0, 'network_error', message || 'network error', null)
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError
}
