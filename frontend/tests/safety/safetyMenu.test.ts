import { describe, expect, it } from 'vitest'
import { activeMenuPath, menuFor } from '@/lib/menu'
import { routes } from '@/router'

describe('safety pages in the menu and the router', () => {
  const names = (permissions: string[]) => menuFor(permissions).map((e) => e.name)

  it('show the index, warnings and hotspots to safety:read, feeds to safety:import, settings to safety:admin', () => {
    expect(names(['safety:read'])).toEqual(['safety', 'safetyWarnings', 'safetyHotspots'])
    expect(names(['safety:read', 'safety:warn', 'safety:import'])).toEqual(['safety', 'safetyWarnings', 'safetyHotspots', 'safetyFeeds'])
    expect(names(['safety:admin'])).toEqual(['safetySettings'])
    expect(names(['case:read'])).not.toContain('safety')
  })

  it('highlight each page under /safety by its own entry', () => {
    const entries = menuFor(['safety:read', 'safety:import', 'safety:admin'])
    expect(activeMenuPath('/safety', entries)).toBe('/safety')
    expect(activeMenuPath('/safety/warnings', entries)).toBe('/safety/warnings')
    expect(activeMenuPath('/safety/feeds', entries)).toBe('/safety/feeds')
    expect(activeMenuPath('/safety/settings', entries)).toBe('/safety/settings')
  })

  it('guard every safety route with its permission', () => {
    const desktop = routes[0]?.children?.find((r) => r.path === '')?.children ?? []
    const meta = (name: string) => desktop.find((r) => r.name === name)?.meta?.permission
    expect(meta('safety')).toBe('safety:read')
    expect(meta('safetyWarnings')).toBe('safety:read')
    expect(meta('safetyHotspots')).toBe('safety:read')
    expect(meta('safetyFeeds')).toBe('safety:import')
    expect(meta('safetySettings')).toBe('safety:admin')
  })
})
