/**
 * One `PositionSharer` for the whole field app (moving between its pages does not stop sharing), as
 * reactive state for the switch in the inbox header. Sends also when the page becomes visible again; on
 * sign-out the point is deleted on the server first (with the token of the session that shared it).
 */
import { shallowRef } from 'vue'
import { api, unwrap } from '@/api/client'
import { locate } from '@/lib/geolocate'
import { useAuthStore } from '@/stores/auth'
import { PositionSharer, type DutyHours, type OwnPosition, type PositionBody, type ShareSnapshot } from './positionShare'

const ME = '/api/v1/command/positions/me'
let sharer: PositionSharer | null = null
const snapshot = shallowRef<ShareSnapshot>({ state: 'off', own: null, problem: null, ended: false })

function create(): PositionSharer {
  const created = new PositionSharer({
    locate: () => locate(),
    put: (body: PositionBody) => unwrap(api.PUT(ME, { body })) as Promise<OwnPosition>,
    remove: async () => {
      await unwrap(api.DELETE(ME))
    },
    status: () => unwrap(api.GET(ME)) as Promise<OwnPosition>,
    now: () => Date.now(),
    every: (ms, run) => {
      const id = setInterval(run, ms)
      return () => clearInterval(id)
    },
  })
  created.subscribe((s) => (snapshot.value = s))
  if (typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void created.visible()
    })
  }
  const auth = useAuthStore()
  auth.$onAction(({ name }) => {
    if (name !== 'logout' || created.current.state === 'off') return
    const bearer = auth.accessToken
    created.forget()
    if (bearer) void api.DELETE(ME, { headers: { Authorization: `Bearer ${bearer}` } }).catch(() => undefined)
  })
  return created
}

export function usePositionShare() {
  sharer ??= create()
  const s = sharer
  return {
    snapshot,
    resume: () => s.resume(),
    start: (hours: DutyHours) => s.start(hours),
    stop: () => s.stop(),
  }
}
