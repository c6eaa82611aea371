import { describe, expect, it } from 'vitest'
import { ApiError, unwrap } from '@/api/client'
import { parseApiError } from '@/api/errors'

describe('parseApiError', () => {
  it('reads the server error shape', () => {
    const e = parseApiError(423, {
      error: { code: 'account_locked', message: '账号已锁定', details: { locked_until: '2026-01-02T03:04:05+00:00' } },
    })
    expect(e).toBeInstanceOf(ApiError)
    expect(e.status).toBe(423)
    expect(e.code).toBe('account_locked')
    expect(e.message).toBe('账号已锁定')
    expect(e.lockedUntil).toBe('2026-01-02T03:04:05+00:00')
  })

  it('fills a missing code or message from the status', () => {
    const e = parseApiError(401, { error: { message: '' } }, 'Unauthorized')
    expect(e.code).toBe('unauthenticated')
    expect(e.message).toBe('Unauthorized')
    expect(e.details).toBeNull()
    expect(e.lockedUntil).toBeNull()
  })

  it('understands FastAPI default bodies', () => {
    expect(parseApiError(404, { detail: 'Not Found' }).message).toBe('Not Found')
    const v = parseApiError(422, {
      detail: [{ loc: ['body', 'username'], msg: 'Field required', type: 'missing' }],
    })
    expect(v.code).toBe('invalid_input')
    expect(v.message).toBe('username: Field required')
    expect(Array.isArray(v.details)).toBe(true)
  })

  it('survives proxies and empty bodies', () => {
    const html = parseApiError(502, '<html><body>Bad gateway</body></html>', 'Bad Gateway')
    expect(html.code).toBe('server_error')
    expect(html.message).toBe('Bad Gateway')
    expect(parseApiError(503, 'maintenance').message).toBe('maintenance')
    expect(parseApiError(418, undefined).message).toBe('HTTP 418')
    expect(parseApiError(418, undefined).code).toBe('http_error')
  })
})

describe('unwrap', () => {
  const ok = (data: unknown) => Promise.resolve({ data, response: new Response(null, { status: 200 }) })

  it('returns the data of a success', async () => {
    await expect(unwrap(ok({ a: 1 }))).resolves.toEqual({ a: 1 })
  })

  it('throws one ApiError for an error answer', async () => {
    const call = Promise.resolve({
      error: { error: { code: 'invalid_credentials', message: '用户名或密码错误', details: null } },
      response: new Response(null, { status: 401 }),
    })
    await expect(unwrap(call)).rejects.toMatchObject({ status: 401, code: 'invalid_credentials', message: '用户名或密码错误' })
  })

  it('turns a failed fetch into network_error', async () => {
    await expect(unwrap(Promise.reject(new TypeError('Failed to fetch')))).rejects.toMatchObject({
      status: 0,
      code: 'network_error',
    })
  })
})
