import { describe, expect, it } from 'vitest'
import { activeMenuPath, menuFor } from '@/lib/menu'
import { routes } from '@/router'

describe('case pages in the menu and the router', () => {
  it('show the case list to case:read and the supervision board to case:supervise', () => {
    const names = (permissions: string[]) => menuFor(permissions).map((e) => e.name)
    expect(names(['case:read'])).toContain('cases')
    expect(names(['case:read'])).not.toContain('supervision')
    expect(names(['case:read', 'case:supervise'])).toEqual(expect.arrayContaining(['cases', 'supervision']))
    expect(names(['case:report'])).not.toContain('cases') // residents use their own pages
  })

  it('highlight the list for a case page and the board for the board', () => {
    const entries = menuFor(['case:read', 'case:supervise'])
    expect(activeMenuPath('/cases/123', entries)).toBe('/cases')
    expect(activeMenuPath('/cases/supervision', entries)).toBe('/cases/supervision')
  })

  it('guard every case route with its permission', () => {
    const desktop = routes[0]?.children?.find((r) => r.path === '')?.children ?? []
    const meta = (name: string) => desktop.find((r) => r.name === name)?.meta?.permission
    expect(meta('cases')).toBe('case:read')
    expect(meta('case')).toBe('case:read')
    expect(meta('supervision')).toBe('case:supervise')
  })
})
