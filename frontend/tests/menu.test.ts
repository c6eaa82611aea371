import { describe, expect, it } from 'vitest'
import { guardDecision } from '@/lib/guard'
import { activeMenuPath, hasPermission, homePath, MENU, menuFor, safeRedirect } from '@/lib/menu'

const OPERATOR = ['geo:read', 'org:read', 'user:read']
const AUDITOR = ['geo:read', 'org:read', 'audit:read', 'audit:verify', 'user:read']
const ADMIN = ['geo:read', 'geo:import', 'org:read', 'org:write', 'user:read', 'user:write', 'apikey:write']
const GRID_WORKER = ['geo:read', 'org:read']

describe('permission → menu', () => {
  it('shows map and division tree to everyone with geo:read', () => {
    expect(menuFor(GRID_WORKER).map((e) => e.name)).toEqual(['map', 'divisions'])
  })

  it('adds users for user:read and audit for audit:read, in menu order', () => {
    expect(menuFor(OPERATOR).map((e) => e.name)).toEqual(['map', 'divisions', 'users'])
    expect(menuFor(AUDITOR).map((e) => e.name)).toEqual(['map', 'divisions', 'users', 'audit'])
    expect(menuFor(ADMIN).map((e) => e.name)).toEqual(['map', 'divisions', 'users'])
  })

  it('shows the import wizard to holders of registry:import', () => {
    expect(menuFor(['registry:import']).map((e) => e.name)).toEqual(['imports'])
    expect(menuFor(['person:read', 'registry:export']).map((e) => e.name)).toEqual(['people'])
  })

  it('shows nothing to a user without permissions (a resident)', () => {
    expect(menuFor([])).toEqual([])
    expect(homePath([])).toBe('/no-access')
  })

  it('lands on the first page the user may open', () => {
    expect(homePath(GRID_WORKER)).toBe('/map')
    expect(homePath(['audit:read'])).toBe('/audit')
  })

  it('needs the exact code (no prefix matching)', () => {
    expect(hasPermission(['user:read'], 'user:write')).toBe(false)
    expect(hasPermission(['user:readonly'], 'user:read')).toBe(false)
    expect(hasPermission([], undefined)).toBe(true)
  })

  it('names every route once', () => {
    expect(new Set(MENU.map((e) => e.path)).size).toBe(MENU.length)
  })
})

describe('route guard', () => {
  const signedIn = (permissions: string[]) => ({ authenticated: true, permissions })
  const anonymous = { authenticated: false, permissions: [] }

  it('sends anonymous users to login with the page to come back to', () => {
    expect(guardDecision({ name: 'users', fullPath: '/users?q=x', meta: { permission: 'user:read' } }, anonymous)).toEqual({
      name: 'login',
      query: { redirect: '/users?q=x' },
    })
    expect(guardDecision({ name: 'home', fullPath: '/', meta: {} }, anonymous)).toEqual({ name: 'login' })
  })

  it('lets anyone see the login page but moves signed-in users on', () => {
    expect(guardDecision({ name: 'login', fullPath: '/login', meta: { public: true } }, anonymous)).toBe(true)
    expect(guardDecision({ name: 'login', fullPath: '/login', meta: { public: true } }, signedIn(OPERATOR))).toBe('/map')
  })

  it('hides routes without the permission', () => {
    const audit = { name: 'audit', fullPath: '/audit', meta: { permission: 'audit:read' } }
    expect(guardDecision(audit, signedIn(OPERATOR))).toBe('/map')
    expect(guardDecision(audit, signedIn(AUDITOR))).toBe(true)
    expect(guardDecision(audit, signedIn([]))).toBe('/no-access')
  })

  it('sends the bare root to the home page', () => {
    expect(guardDecision({ name: 'home', fullPath: '/', meta: {} }, signedIn(['user:read']))).toBe('/users')
  })

  it('does not loop for a user with no functions', () => {
    expect(guardDecision({ name: 'no-access', fullPath: '/no-access', meta: {} }, signedIn([]))).toBe(true)
  })
})

describe('redirect after login', () => {
  it('accepts in-app paths only', () => {
    expect(safeRedirect('/users?page=2')).toBe('/users?page=2')
    expect(safeRedirect('https://evil.example/')).toBeNull()
    expect(safeRedirect('//evil.example/')).toBeNull()
    expect(safeRedirect('/\\evil.example')).toBeNull()
    expect(safeRedirect('/login')).toBeNull()
    expect(safeRedirect(['/map'])).toBeNull()
    expect(safeRedirect(undefined)).toBeNull()
  })
})

describe('registry menu', () => {
  const WORKER = ['geo:read', 'org:read', 'person:read', 'person:write', 'person:pii', 'house:read', 'house:write', 'organisation:read', 'organisation:write', 'care:read', 'care:write']
  const DEPARTMENT = ['geo:read', 'org:read', 'person:read', 'house:read', 'organisation:read', 'person:pii']

  it('shows each registry page only with its read permission', () => {
    expect(menuFor(WORKER).map((e) => e.name)).toEqual(['map', 'divisions', 'people', 'houses', 'organisations', 'places', 'schools', 'care', 'mobile'])
    expect(menuFor(DEPARTMENT).map((e) => e.name)).toEqual(['map', 'divisions', 'people', 'houses', 'organisations', 'places', 'schools'])
  })

  it('guards the registry routes by permission', () => {
    const to = { name: 'care', fullPath: '/registry/care', meta: { permission: 'care:read' } }
    expect(guardDecision(to, { authenticated: true, permissions: DEPARTMENT })).toBe('/map')
    expect(guardDecision(to, { authenticated: true, permissions: WORKER })).toBe(true)
    expect(guardDecision({ name: 'm-person', fullPath: '/m/person', meta: { permission: 'person:write' } }, { authenticated: false, permissions: [] })).toEqual({
      name: 'login',
      query: { redirect: '/m/person' },
    })
  })

  it('highlights the entry a detail page belongs to', () => {
    expect(activeMenuPath('/registry/people/12')).toBe('/registry/people')
    expect(activeMenuPath('/registry/care')).toBe('/registry/care')
    expect(activeMenuPath('/map')).toBe('/map')
    expect(activeMenuPath('/users')).toBe('/users')
  })
})
