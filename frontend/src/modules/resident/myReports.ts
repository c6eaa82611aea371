/**
 * "My reports": the tracking tokens this browser received, kept in localStorage (the server shows a
 * token only once). Newest first; at most 50.
 */
export const MY_REPORTS_KEY = 'civicgrid.resident.reports'
const LIMIT = 50

export interface MyReport {
  token: string
  code: string
  at: string
  /** a +1 on someone else's report (tracks it, cannot rate it) */
  followed: boolean
  title?: string
}

type Store = Pick<Storage, 'getItem' | 'setItem'>

function storage(): Store | undefined {
  try {
    return globalThis.localStorage
  } catch {
    return undefined
  }
}

export function loadReports(store: Store | undefined = storage()): MyReport[] {
  try {
    const value: unknown = JSON.parse(store?.getItem(MY_REPORTS_KEY) ?? '[]')
    return Array.isArray(value) ? value.filter((r): r is MyReport => typeof r?.token === 'string' && typeof r?.code === 'string') : []
  } catch {
    return []
  }
}

export function rememberReport(report: MyReport, store: Store | undefined = storage()): MyReport[] {
  const next = [report, ...loadReports(store).filter((r) => r.token !== report.token)].slice(0, LIMIT)
  try {
    store?.setItem(MY_REPORTS_KEY, JSON.stringify(next))
  } catch {
    // private mode or full: the token is still shown on screen to be copied
  }
  return next
}

export function forgetReport(token: string, store: Store | undefined = storage()): MyReport[] {
  const next = loadReports(store).filter((r) => r.token !== token)
  try {
    store?.setItem(MY_REPORTS_KEY, JSON.stringify(next))
  } catch {
    // as above
  }
  return next
}

/** The resident's view of progress: submitted → accepted → being handled → handled → closed. */
export const PUBLIC_STEPS = ['reported', 'accepted', 'in_progress', 'handled', 'closed'] as const

export function stepOf(status: string): number {
  switch (status) {
    case 'reported':
    case 'rejected':
      return 0
    case 'accepted':
    case 'escalated':
      return 1
    case 'dispatched':
    case 'in_progress':
    case 'returned':
      return 2
    case 'handled':
    case 'verifying':
      return 3
    case 'closed':
      return 4
    default:
      return 0
  }
}
