/**
 * Who is signed in.
 *
 * Tokens: the short-lived access token is kept in memory only; the rotating refresh token is kept in
 * localStorage so a reload or a new tab stays signed in. Trade-off (documented in README): a script
 * injected into the page could read the refresh token, which an HTTP-only cookie would prevent; we accept
 * that for a bearer-token API used by several clients, keep the app free of third-party scripts, and rely on
 * the server revoking the whole token family when a spent refresh token is replayed.
 *
 * Refresh is single-flight: every request that fails with 401 at the same moment waits for one refresh,
 * and tabs take a Web Lock so two tabs never spend the same refresh token.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { ApiError, api, installSessionHooks, unwrap } from '@/api/client'
import type { Me, TokenOut } from '@/api/types'

export const REFRESH_TOKEN_KEY = 'civicgrid.refresh_token'
const LOCK_NAME = 'civicgrid-token-refresh'

type ExpiredListener = () => void
const expiredListeners = new Set<ExpiredListener>()

/** Called when the server refuses the session and it cannot be refreshed (used to go to the login page). */
export function onSessionExpired(listener: ExpiredListener): () => void {
  expiredListeners.add(listener)
  return () => expiredListeners.delete(listener)
}

function readRefreshToken(): string | null {
  try {
    return globalThis.localStorage?.getItem(REFRESH_TOKEN_KEY) ?? null
  } catch {
    return null
  }
}

function writeRefreshToken(token: string | null): void {
  try {
    if (token) globalThis.localStorage?.setItem(REFRESH_TOKEN_KEY, token)
    else globalThis.localStorage?.removeItem(REFRESH_TOKEN_KEY)
  } catch {
    // storage unavailable: the session lasts as long as the page
  }
}

async function withCrossTabLock<T>(work: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks
  if (locks && typeof locks.request === 'function') return await locks.request(LOCK_NAME, work)
  return await work()
}

export const useAuthStore = defineStore('auth', () => {
  const accessToken = ref<string | null>(null)
  const user = ref<Me | null>(null)
  const restored = ref(false)
  let inflight: Promise<boolean> | null = null

  const isAuthenticated = computed(() => user.value !== null && accessToken.value !== null)
  const permissions = computed<readonly string[]>(() => user.value?.permissions ?? [])

  function can(permission: string | undefined): boolean {
    return !permission || permissions.value.includes(permission)
  }

  function accept(tokens: TokenOut): void {
    accessToken.value = tokens.access_token
    user.value = tokens.user
    writeRefreshToken(tokens.refresh_token)
  }

  function clear(): void {
    accessToken.value = null
    user.value = null
    writeRefreshToken(null)
  }

  async function login(username: string, password: string): Promise<Me> {
    const tokens = await unwrap(api.POST('/api/v1/auth/login', { body: { username, password } }))
    accept(tokens)
    restored.value = true
    return tokens.user
  }

  async function refreshNow(): Promise<boolean> {
    // Read the token inside the lock: another tab may have rotated it a moment ago.
    const token = readRefreshToken()
    if (!token) {
      accessToken.value = null
      user.value = null
      return false
    }
    try {
      accept(await unwrap(api.POST('/api/v1/auth/refresh', { body: { refresh_token: token } })))
      return true
    } catch (error) {
      // The server refused the token (spent, expired, revoked): the session is over. A network failure
      // keeps the token so the next attempt can still succeed.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) clear()
      else accessToken.value = null
      return false
    }
  }

  /** One refresh for everyone who asks while it runs. */
  function refresh(): Promise<boolean> {
    inflight ??= withCrossTabLock(refreshNow).finally(() => {
      inflight = null
    })
    return inflight
  }

  /** At start-up: turn a stored refresh token into a session (once). */
  async function restore(): Promise<void> {
    if (restored.value) return
    try {
      if (!isAuthenticated.value && readRefreshToken()) await refresh()
    } finally {
      restored.value = true
    }
  }

  async function logout(): Promise<void> {
    const token = readRefreshToken()
    const bearer = accessToken.value
    clear()
    if (!token) return
    try {
      await unwrap(
        api.POST('/api/v1/auth/logout', {
          body: { refresh_token: token },
          headers: bearer ? { Authorization: `Bearer ${bearer}` } : {},
        }),
      )
    } catch {
      // already signed out locally; the server lets the token expire
    }
  }

  function expire(): void {
    clear()
    for (const listener of expiredListeners) listener()
  }

  installSessionHooks({
    accessToken: () => accessToken.value,
    refresh,
    onSessionExpired: expire,
  })

  return { accessToken, user, restored, isAuthenticated, permissions, can, login, refresh, restore, logout, clear }
})
