import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { guardDecision } from '@/lib/guard'
import { useAuthStore } from '@/stores/auth'

declare module 'vue-router' {
  interface RouteMeta {
    /** reachable without signing in */
    public?: boolean
    /** permission code needed to open the page */
    permission?: string
    /** the page fills the main area edge to edge (the map) */
    fullBleed?: boolean
  }
}

// Desktop pages (Element Plus, loaded by the lazy DesktopRoot) and phone pages (Vant, lazy MobileLayout) are
// separate trees, so a phone opening /m/ downloads no Element Plus and a desktop no Vant.
const desktopPages: RouteRecordRaw[] = [
  { path: 'login', name: 'login', component: () => import('@/modules/auth/LoginPage.vue'), meta: { public: true } },
  {
    path: '',
    component: () => import('@/layout/AppLayout.vue'),
    children: [
      { path: '', name: 'home', component: { render: () => null } },
      {
        path: 'map',
        name: 'map',
        component: () => import('@/modules/geo/MapPage.vue'),
        meta: { permission: 'geo:read', fullBleed: true },
      },
      {
        path: 'divisions',
        name: 'divisions',
        component: () => import('@/modules/geo/DivisionTreePage.vue'),
        meta: { permission: 'geo:read' },
      },
      {
        path: 'registry/people',
        name: 'people',
        component: () => import('@/modules/registry/people/PeoplePage.vue'),
        meta: { permission: 'person:read' },
      },
      {
        path: 'registry/people/:id(\\d+)',
        name: 'person',
        component: () => import('@/modules/registry/people/PersonDetailPage.vue'),
        props: true,
        meta: { permission: 'person:read' },
      },
      {
        path: 'registry/houses',
        name: 'houses',
        component: () => import('@/modules/registry/houses/HousesPage.vue'),
        meta: { permission: 'house:read' },
      },
      {
        path: 'registry/houses/:id(\\d+)',
        name: 'house',
        component: () => import('@/modules/registry/houses/HouseDetailPage.vue'),
        props: true,
        meta: { permission: 'house:read' },
      },
      ...(['organisations', 'places', 'schools'] as const).map((kind) => ({
        path: `registry/${kind}`,
        name: kind,
        component: () => import('@/modules/registry/entities/EntityPage.vue'),
        props: { kind },
        meta: { permission: 'organisation:read' },
      })),
      {
        path: 'registry/care',
        name: 'care',
        component: () => import('@/modules/registry/care/CareDashboard.vue'),
        meta: { permission: 'care:read' },
      },
      {
        path: 'registry/care/:id(\\d+)',
        name: 'care-record',
        component: () => import('@/modules/registry/care/CareDetailPage.vue'),
        props: true,
        meta: { permission: 'care:read' },
      },
      {
        path: 'cases',
        name: 'cases',
        component: () => import('@/modules/cases/CasesPage.vue'),
        meta: { permission: 'case:read' },
      },
      {
        path: 'cases/:id(\\d+)',
        name: 'case',
        component: () => import('@/modules/cases/CaseDetailPage.vue'),
        props: true,
        meta: { permission: 'case:read' },
      },
      {
        path: 'cases/supervision',
        name: 'supervision',
        component: () => import('@/modules/cases/SupervisionPage.vue'),
        meta: { permission: 'case:supervise' },
      },
      {
        path: 'disputes',
        name: 'disputes',
        component: () => import('@/modules/disputes/DisputeListPage.vue'),
        meta: { permission: 'dispute:read' },
      },
      {
        path: 'disputes/desk',
        name: 'disputeDesk',
        component: () => import('@/modules/disputes/DisputeDeskPage.vue'),
        meta: { permission: 'dispute:read' },
      },
      {
        path: 'disputes/new',
        name: 'dispute-new',
        component: () => import('@/modules/disputes/DisputeCreatePage.vue'),
        meta: { permission: 'dispute:write' },
      },
      {
        path: 'disputes/:id(\\d+)',
        name: 'dispute',
        component: () => import('@/modules/disputes/DisputeDetailPage.vue'),
        props: true,
        meta: { permission: 'dispute:read' },
      },
      {
        path: 'cases/measures',
        name: 'measures',
        component: () => import('@/modules/cases/MeasuresPage.vue'),
        meta: { permission: 'case:read' },
      },
      {
        path: 'reports',
        name: 'reports',
        component: () => import('@/modules/command/ReportsPage.vue'),
        meta: { permission: 'command:read' },
      },
      {
        path: 'safety',
        name: 'safety',
        component: () => import('@/modules/safety/SafetyIndexPage.vue'),
        meta: { permission: 'safety:read' },
      },
      {
        path: 'safety/warnings',
        name: 'safetyWarnings',
        component: () => import('@/modules/safety/WarningsPage.vue'),
        meta: { permission: 'safety:read' },
      },
      {
        path: 'safety/hotspots',
        name: 'safetyHotspots',
        component: () => import('@/modules/safety/HotspotsPage.vue'),
        meta: { permission: 'safety:read' },
      },
      {
        path: 'safety/feeds',
        name: 'safetyFeeds',
        component: () => import('@/modules/safety/FeedsPage.vue'),
        meta: { permission: 'safety:import' },
      },
      {
        path: 'safety/settings',
        name: 'safetySettings',
        component: () => import('@/modules/safety/SafetySettingsPage.vue'),
        meta: { permission: 'safety:admin' },
      },
      {
        path: 'registry/imports',
        name: 'imports',
        component: () => import('@/modules/registry/imports/ImportPage.vue'),
        meta: { permission: 'registry:import' },
      },
      {
        path: 'users',
        name: 'users',
        component: () => import('@/modules/users/UsersPage.vue'),
        meta: { permission: 'user:read' },
      },
      {
        path: 'audit',
        name: 'audit',
        component: () => import('@/modules/audit/AuditPage.vue'),
        meta: { permission: 'audit:read' },
      },
      { path: 'no-access', name: 'no-access', component: () => import('@/modules/common/NoAccessPage.vue') },
    ],
  },
  {
    // The command centre's big screen (一张图): its own full-screen layout, without the desk app's menu.
    path: 'command',
    name: 'command',
    component: () => import('@/modules/command/CommandPage.vue'),
    meta: { permission: 'command:read' },
  },
  {
    path: ':pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/modules/common/NotFoundPage.vue'),
    meta: { public: true },
  },
]

export const routes: RouteRecordRaw[] = [
  { path: '/', component: () => import('@/layout/DesktopRoot.vue'), children: desktopPages },
  {
    // The resident's 随手拍 pages: public (no sign-in), Vant like the field app.
    path: '/r',
    component: () => import('@/modules/resident/ResidentLayout.vue'),
    meta: { public: true },
    children: [
      { path: '', name: 'r-report', component: () => import('@/modules/resident/ResidentReport.vue'), meta: { public: true } },
      { path: 'mine', name: 'r-mine', component: () => import('@/modules/resident/ResidentMine.vue'), meta: { public: true } },
      {
        path: 'track/:token',
        name: 'r-track',
        component: () => import('@/modules/resident/ResidentTrack.vue'),
        props: true,
        meta: { public: true },
      },
    ],
  },
  {
    // The grid worker's phone pages (Vant, a lazy chunk of its own).
    path: '/m',
    component: () => import('@/modules/mobile/MobileLayout.vue'),
    children: [
      { path: '', name: 'm-home', component: () => import('@/modules/mobile/MobileHome.vue'), meta: { permission: 'person:write' } },
      {
        path: 'person',
        name: 'm-person',
        component: () => import('@/modules/mobile/MobileRegisterPerson.vue'),
        meta: { permission: 'person:write' },
      },
      {
        path: 'house',
        name: 'm-house',
        component: () => import('@/modules/mobile/MobileRegisterHouse.vue'),
        meta: { permission: 'house:write' },
      },
      { path: 'cases', name: 'm-cases', component: () => import('@/modules/mobile/cases/FieldInbox.vue'), meta: { permission: 'case:handle' } },
      { path: 'cases/new', name: 'm-case-new', component: () => import('@/modules/mobile/cases/FieldReport.vue'), meta: { permission: 'case:report' } },
      { path: 'cases/outbox', name: 'm-outbox', component: () => import('@/modules/mobile/cases/FieldOutbox.vue'), meta: { permission: 'case:report' } },
      {
        path: 'cases/:id(\\d+)',
        name: 'm-case',
        component: () => import('@/modules/mobile/cases/FieldCase.vue'),
        props: true,
        meta: { permission: 'case:handle' },
      },
    ],
  },
]

export const router = createRouter({
  history: createWebHistory('/'),
  routes,
})

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  await auth.restore()
  return guardDecision(to, { authenticated: auth.isAuthenticated, permissions: auth.permissions })
})
