import { createRouter, createWebHistory, type RouteLocationRaw, type RouteRecordRaw } from 'vue-router'
import AppLayout from '@/layout/AppLayout.vue'
import LoginPage from '@/modules/auth/LoginPage.vue'
import { hasPermission, homePath } from '@/lib/menu'
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

export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: LoginPage, meta: { public: true } },
  {
    path: '/',
    component: AppLayout,
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
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/modules/common/NotFoundPage.vue'),
    meta: { public: true },
  },
]

export interface GuardTarget {
  name?: string | symbol | null | undefined
  fullPath: string
  meta: { public?: boolean; permission?: string }
}

export interface GuardState {
  authenticated: boolean
  permissions: readonly string[]
}

/** The guard's decision, separated from the router so it can be tested: true = go on, else where to. */
export function guardDecision(to: GuardTarget, state: GuardState): true | RouteLocationRaw {
  if (to.name === 'login') return state.authenticated ? homePath(state.permissions) : true
  if (to.meta.public) return true
  if (!state.authenticated) {
    return to.fullPath === '/' ? { name: 'login' } : { name: 'login', query: { redirect: to.fullPath } }
  }
  if (to.name === 'home') return homePath(state.permissions)
  if (!hasPermission(state.permissions, to.meta.permission)) return homePath(state.permissions)
  return true
}

export const router = createRouter({
  history: createWebHistory('/'),
  routes,
})

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  await auth.restore()
  return guardDecision(to, { authenticated: auth.isAuthenticated, permissions: auth.permissions })
})
