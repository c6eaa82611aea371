/** The route guard's decision, kept apart from the router so it can be unit-tested. */
import type { RouteLocationRaw } from 'vue-router'
import { hasPermission, homePath } from './menu'

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

