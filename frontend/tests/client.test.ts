import { describe, expect, it, vi, type Mock } from 'vitest'
import { createApiClient, unwrap, type SessionHooks } from '@/api/client'

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

type FakeSession = SessionHooks & {
  token: string | null
  refresh: Mock<() => Promise<boolean>>
  onSessionExpired: Mock<() => void>
}

function session(overrides: Partial<FakeSession> = {}): FakeSession {
  const s: FakeSession = {
    token: 'A1',
    accessToken: (): string | null => s.token,
    refresh: vi.fn(async (): Promise<boolean> => {
      s.token = 'A2'
      return true
    }),
    onSessionExpired: vi.fn<() => void>(),
    ...overrides,
  }
  return s
}

describe('API client', () => {
  it('sends the access token as a bearer header', async () => {
    const seen: (string | null)[] = []
    const fetch = vi.fn(async (req: Request) => {
      seen.push(req.headers.get('Authorization'))
      return json(200, { id: 1 })
    })
    const api = createApiClient({ session: session(), fetch, baseUrl: 'http://test' })
    await unwrap(api.GET('/api/v1/auth/me'))
    expect(seen).toEqual(['Bearer A1'])
  })

  it('refreshes once on 401 and retries with the new token and the same body', async () => {
    const s = session()
    const calls: { auth: string | null; body: string }[] = []
    const fetch = vi.fn(async (req: Request) => {
      calls.push({ auth: req.headers.get('Authorization'), body: await req.text() })
      return req.headers.get('Authorization') === 'Bearer A2'
        ? json(201, { id: 7 })
        : json(401, { error: { code: 'unauthenticated', message: 'token expired', details: null } })
    })
    const api = createApiClient({ session: s, fetch, baseUrl: 'http://test' })
    const body = { username: 'zhang3', display_name: '张三', password: 'x'.repeat(12), role: 'grid_worker', scope_division_code: '340302001001' }
    const created = await unwrap(api.POST('/api/v1/users', { body }))
    expect(created).toEqual({ id: 7 })
    expect(s.refresh).toHaveBeenCalledTimes(1)
    expect(calls.map((c) => c.auth)).toEqual(['Bearer A1', 'Bearer A2'])
    expect(JSON.parse(calls[1]!.body)).toEqual(body)
  })

  it('ends the session when the refresh fails', async () => {
    const s = session({ refresh: vi.fn(async () => false) })
    const fetch = vi.fn(async () => json(401, { error: { code: 'unauthenticated', message: 'no', details: null } }))
    const api = createApiClient({ session: s, fetch, baseUrl: 'http://test' })
    await expect(unwrap(api.GET('/api/v1/auth/me'))).rejects.toMatchObject({ status: 401, code: 'unauthenticated' })
    expect(s.onSessionExpired).toHaveBeenCalledTimes(1)
    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('never refreshes for login or refresh themselves', async () => {
    const s = session()
    const fetch = vi.fn(async () =>
      json(401, { error: { code: 'invalid_credentials', message: '用户名或密码错误', details: null } }),
    )
    const api = createApiClient({ session: s, fetch, baseUrl: 'http://test' })
    await expect(unwrap(api.POST('/api/v1/auth/login', { body: { username: 'a', password: 'b' } }))).rejects.toMatchObject({
      code: 'invalid_credentials',
    })
    await expect(unwrap(api.POST('/api/v1/auth/refresh', { body: { refresh_token: 'r'.repeat(20) } }))).rejects.toMatchObject({
      status: 401,
    })
    expect(s.refresh).not.toHaveBeenCalled()
    expect(s.onSessionExpired).not.toHaveBeenCalled()
  })

  it('does not touch other errors', async () => {
    const s = session()
    const fetch = vi.fn(async () => json(403, { error: { code: 'forbidden', message: 'needs user:write', details: null } }))
    const api = createApiClient({ session: s, fetch, baseUrl: 'http://test' })
    await expect(unwrap(api.GET('/api/v1/users'))).rejects.toMatchObject({ status: 403, code: 'forbidden', message: 'needs user:write' })
    expect(s.refresh).not.toHaveBeenCalled()
  })
})
