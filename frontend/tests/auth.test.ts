import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { api, unwrap } from '@/api/client'
import { onSessionExpired, REFRESH_TOKEN_KEY, useAuthStore } from '@/stores/auth'

const me = (permissions: string[] = ['geo:read']) => ({
  id: 1,
  username: 'operator',
  display_name: '王敏',
  role: 'center_operator',
  role_label_zh: '综治中心工作人员',
  role_label_en: 'Centre operator',
  permissions,
  scope: { division_code: '340300', level: 'city', name: '蚌埠市' },
  unit: null,
})

const tokens = (n: number) => ({
  access_token: `A${n}`,
  token_type: 'bearer',
  expires_in: 900,
  refresh_token: `R${n}-${'x'.repeat(20)}`,
  user: me(),
})

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
const error = (status: number, code: string, message = code) => json(status, { error: { code, message, details: null } })

/** A fake server: access token `A<n>` is valid only while n is the latest; refresh tokens rotate. */
function fakeServer() {
  const state = { generation: 0, refreshCalls: 0, refreshDelay: 0, refreshDown: false }
  const fetch = vi.fn(async (req: Request) => {
    const path = new URL(req.url).pathname
    if (path === '/api/v1/auth/login') {
      const body = (await req.json()) as { password: string }
      if (body.password !== 'right') return error(401, 'invalid_credentials', '用户名或密码错误')
      state.generation++
      return json(200, tokens(state.generation))
    }
    if (path === '/api/v1/auth/refresh') {
      state.refreshCalls++
      if (state.refreshDown) throw new TypeError('Failed to fetch')
      const body = (await req.json()) as { refresh_token: string }
      await new Promise((r) => setTimeout(r, state.refreshDelay))
      if (!body.refresh_token.startsWith(`R${state.generation}-`)) return error(401, 'invalid_refresh_token')
      state.generation++
      return json(200, tokens(state.generation))
    }
    if (path === '/api/v1/auth/logout') return new Response(null, { status: 204 })
    if (req.headers.get('Authorization') !== `Bearer A${state.generation}`) return error(401, 'unauthenticated')
    return json(200, me())
  })
  return { state, fetch }
}

describe('auth store', () => {
  let server: ReturnType<typeof fakeServer>

  beforeEach(() => {
    localStorage.clear()
    setActivePinia(createPinia())
    server = fakeServer()
    vi.stubGlobal('fetch', server.fetch)
  })

  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('keeps the access token in memory and the refresh token in localStorage', async () => {
    const auth = useAuthStore()
    await auth.login('operator', 'right')
    expect(auth.isAuthenticated).toBe(true)
    expect(auth.accessToken).toBe('A1')
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toMatch(/^R1-/)
    expect(JSON.stringify(localStorage)).not.toContain('A1')
    expect(auth.can('geo:read')).toBe(true)
    expect(auth.can('user:write')).toBe(false)
  })

  it('reports the server message of a failed login and stays signed out', async () => {
    const auth = useAuthStore()
    await expect(auth.login('operator', 'wrong')).rejects.toMatchObject({ code: 'invalid_credentials', message: '用户名或密码错误' })
    expect(auth.isAuthenticated).toBe(false)
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBeNull()
  })

  it('keeps the rotated refresh token', async () => {
    const auth = useAuthStore()
    await auth.login('operator', 'right')
    expect(await auth.refresh()).toBe(true)
    expect(auth.accessToken).toBe('A2')
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toMatch(/^R2-/)
    expect(await auth.refresh()).toBe(true)
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toMatch(/^R3-/)
  })

  it('refreshes once for many requests that fail together, then retries them', async () => {
    const auth = useAuthStore()
    await auth.login('operator', 'right')
    auth.accessToken = 'expired' // the access token ran out; the refresh token R1 is still good
    server.state.refreshDelay = 20
    const results = await Promise.all([1, 2, 3, 4].map(() => unwrap(api.GET('/api/v1/auth/me'))))
    expect(results.every((r) => r.username === 'operator')).toBe(true)
    expect(server.state.refreshCalls).toBe(1)
    expect(auth.accessToken).toBe('A2')
  })

  it('ends the session when the refresh token is refused', async () => {
    const auth = useAuthStore()
    const expired = vi.fn()
    const off = onSessionExpired(expired)
    await auth.login('operator', 'right')
    localStorage.setItem(REFRESH_TOKEN_KEY, 'R0-spent-token-xxxxxxxx')
    auth.accessToken = 'expired'
    await expect(unwrap(api.GET('/api/v1/auth/me'))).rejects.toMatchObject({ status: 401 })
    expect(auth.isAuthenticated).toBe(false)
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBeNull()
    expect(expired).toHaveBeenCalledTimes(1)
    off()
  })

  it('keeps the refresh token when the server is unreachable', async () => {
    const auth = useAuthStore()
    await auth.login('operator', 'right')
    server.state.refreshDown = true
    expect(await auth.refresh()).toBe(false)
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toMatch(/^R1-/)
  })

  it('restores a session from the stored refresh token once', async () => {
    const first = useAuthStore()
    await first.login('operator', 'right')
    setActivePinia(createPinia()) // a reload: memory is gone, localStorage stays
    const auth = useAuthStore()
    expect(auth.isAuthenticated).toBe(false)
    await Promise.all([auth.restore(), auth.restore()])
    expect(auth.isAuthenticated).toBe(true)
    expect(auth.user?.display_name).toBe('王敏')
    expect(server.state.refreshCalls).toBe(1)
    await auth.restore()
    expect(server.state.refreshCalls).toBe(1)
  })

  it('restores nothing without a stored token', async () => {
    const auth = useAuthStore()
    await auth.restore()
    expect(auth.restored).toBe(true)
    expect(auth.isAuthenticated).toBe(false)
    expect(server.state.refreshCalls).toBe(0)
  })

  it('logs out locally even if the server call fails', async () => {
    const auth = useAuthStore()
    await auth.login('operator', 'right')
    server.fetch.mockImplementationOnce(async () => {
      throw new TypeError('offline')
    })
    await auth.logout()
    expect(auth.isAuthenticated).toBe(false)
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBeNull()
  })
})
