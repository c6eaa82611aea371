/**
 * The typed API client: openapi-fetch over the generated `schema.d.ts` (never hand-written calls).
 *
 * - The access token lives in memory and is added to every request.
 * - A 401 on any call other than login/refresh triggers one refresh (shared by every request that failed
 *   at the same time) and a single retry; if the refresh fails the session is over.
 * - `unwrap()` turns openapi-fetch's `{data, error, response}` into the data or a thrown `ApiError`.
 */
import createClient, { type Client } from 'openapi-fetch'
import { ApiError, networkError, parseApiError } from './errors'
import type { paths } from './schema'

export { ApiError, isApiError, parseApiError } from './errors'

export type ApiClient = Client<paths>

export interface SessionHooks {
  /** The current access token, or null when not signed in. */
  accessToken(): string | null
  /** Get a new access token with the refresh token; resolves true when one is available. */
  refresh(): Promise<boolean>
  /** Called when a 401 could not be cured by refreshing: the session is over. */
  onSessionExpired(): void
}

export interface ApiClientOptions {
  session: SessionHooks
  baseUrl?: string
  /** For tests; defaults to the global fetch looked up at call time. */
  fetch?: (request: Request) => Promise<Response>
}

const NO_REFRESH_PATHS = ['/api/v1/auth/login', '/api/v1/auth/refresh', '/api/v1/auth/logout']

function defaultBaseUrl(): string {
  const origin = globalThis.location?.origin
  return origin && origin !== 'null' ? origin : 'http://localhost'
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const { session } = options
  const doFetch = options.fetch ?? ((request: Request) => globalThis.fetch(request))

  function send(request: Request): Promise<Response> {
    const token = session.accessToken()
    if (!token) return doFetch(request)
    const headers = new Headers(request.headers)
    headers.set('Authorization', `Bearer ${token}`)
    return doFetch(new Request(request, { headers }))
  }

  async function authFetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname
    const retryable = !NO_REFRESH_PATHS.includes(path)
    const copy = retryable ? request.clone() : request
    const response = await send(request)
    if (response.status !== 401 || !retryable) return response
    if (!(await session.refresh())) {
      session.onSessionExpired()
      return response
    }
    return send(copy)
  }

  return createClient<paths>({
    baseUrl: options.baseUrl ?? defaultBaseUrl(),
    fetch: authFetch,
  })
}

type FetchResult<T> = { data?: T; error?: unknown; response: Response }

/** Await an openapi-fetch call and return its data, or throw one ApiError for any failure. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>
  try {
    result = await call
  } catch (cause) {
    if (cause instanceof ApiError) throw cause
    throw networkError(cause)
  }
  const { data, error, response } = result
  if (!response.ok) throw parseApiError(response.status, error, response.statusText)
  return data as T
}

// The app-wide client; the auth store installs the real session hooks at start-up.
const hooks: SessionHooks = {
  accessToken: () => null,
  refresh: async () => false,
  onSessionExpired: () => {},
}

export function installSessionHooks(next: SessionHooks): void {
  Object.assign(hooks, next)
}

export const api: ApiClient = createApiClient({
  session: {
    accessToken: () => hooks.accessToken(),
    refresh: () => hooks.refresh(),
    onSessionExpired: () => hooks.onSessionExpired(),
  },
})
