import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import AppLayout from '@/layout/AppLayout.vue'
import LoginPage from '@/modules/auth/LoginPage.vue'
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

export const router = createRouter({
  history: createWebHistory('/'),
  routes,
})

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  await auth.restore()
  return guardDecision(to, { authenticated: auth.isAuthenticated, permissions: auth.permissions })
})
