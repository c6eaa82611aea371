/**
 * Which pages a user may open, from the permission codes of `GET /auth/me`.
 * The router's guard and the side menu both use this one table.
 */
export interface MenuEntry {
  /** route name and i18n key `menu.<name>` */
  name: 'map' | 'divisions' | 'cases' | 'supervision' | 'people' | 'houses' | 'organisations' | 'places' | 'schools' | 'care' | 'measures' | 'disputes' | 'disputeDesk' | 'imports' | 'mobile' | 'users' | 'audit'
    | 'safety' | 'safetyWarnings' | 'safetyHotspots' | 'safetyFeeds' | 'safetySettings'
    | 'command' | 'reports'
  path: string
  permission: string
  icon: MenuIcon
}

export type MenuIcon =
  | 'MapLocation'
  | 'Share'
  | 'User'
  | 'Document'
  | 'Avatar'
  | 'House'
  | 'OfficeBuilding'
  | 'Place'
  | 'School'
  | 'FirstAidKit'
  | 'Iphone'
  | 'Upload'
  | 'Tickets'
  | 'AlarmClock'
  | 'ChatDotRound'
  | 'Stamp'
  | 'Odometer'
  | 'Bell'
  | 'Aim'
  | 'Connection'
  | 'Setting'
  | 'Monitor'

export const MENU: readonly MenuEntry[] = [
  { name: 'map', path: '/map', permission: 'geo:read', icon: 'MapLocation' },
  { name: 'divisions', path: '/divisions', permission: 'geo:read', icon: 'Share' },
  { name: 'people', path: '/registry/people', permission: 'person:read', icon: 'Avatar' },
  { name: 'houses', path: '/registry/houses', permission: 'house:read', icon: 'House' },
  { name: 'organisations', path: '/registry/organisations', permission: 'organisation:read', icon: 'OfficeBuilding' },
  { name: 'places', path: '/registry/places', permission: 'organisation:read', icon: 'Place' },
  { name: 'schools', path: '/registry/schools', permission: 'organisation:read', icon: 'School' },
  { name: 'care', path: '/registry/care', permission: 'care:read', icon: 'FirstAidKit' },
  { name: 'cases', path: '/cases', permission: 'case:read', icon: 'Tickets' },
  { name: 'supervision', path: '/cases/supervision', permission: 'case:supervise', icon: 'AlarmClock' },
  { name: 'disputes', path: '/disputes', permission: 'dispute:read', icon: 'ChatDotRound' },
  { name: 'disputeDesk', path: '/disputes/desk', permission: 'dispute:read', icon: 'Stamp' },
  { name: 'measures', path: '/cases/measures', permission: 'case:read', icon: 'Document' },
  { name: 'command', path: '/command', permission: 'command:read', icon: 'Monitor' },
  { name: 'reports', path: '/reports', permission: 'command:read', icon: 'Document' },
  { name: 'safety', path: '/safety', permission: 'safety:read', icon: 'Odometer' },
  { name: 'safetyWarnings', path: '/safety/warnings', permission: 'safety:read', icon: 'Bell' },
  { name: 'safetyHotspots', path: '/safety/hotspots', permission: 'safety:read', icon: 'Aim' },
  { name: 'safetyFeeds', path: '/safety/feeds', permission: 'safety:import', icon: 'Connection' },
  { name: 'safetySettings', path: '/safety/settings', permission: 'safety:admin', icon: 'Setting' },
  { name: 'imports', path: '/registry/imports', permission: 'registry:import', icon: 'Upload' },
  { name: 'mobile', path: '/m/', permission: 'person:write', icon: 'Iphone' },
  { name: 'users', path: '/users', permission: 'user:read', icon: 'User' },
  { name: 'audit', path: '/audit', permission: 'audit:read', icon: 'Document' },
]

export function hasPermission(permissions: readonly string[], required: string | undefined): boolean {
  return required === undefined || permissions.includes(required)
}

/** The menu entries a user with these permissions sees, in menu order. */
export function menuFor(permissions: readonly string[]): MenuEntry[] {
  return MENU.filter((entry) => hasPermission(permissions, entry.permission))
}

/** Where a signed-in user lands: the first page they may open, or the "no functions" page. */
export function homePath(permissions: readonly string[]): string {
  return menuFor(permissions)[0]?.path ?? '/no-access'
}

/** A `?redirect=` target is honoured only if it is an in-app path (never another origin). */
export function safeRedirect(value: unknown): string | null {
  if (typeof value !== 'string') return null
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null
  if (value.startsWith('/login')) return null
  return value
}

/** The menu entry a path belongs to (the longest entry path it starts with), for highlighting. */
export function activeMenuPath(path: string, entries: readonly MenuEntry[] = MENU): string {
  let best = ''
  for (const entry of entries) {
    const base = entry.path.endsWith('/') ? entry.path.slice(0, -1) : entry.path
    if ((path === base || path.startsWith(base + '/')) && base.length > best.length) best = entry.path
  }
  return best || '/' + (path.split('/')[1] ?? '')
}
