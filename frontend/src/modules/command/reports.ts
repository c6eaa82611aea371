/**
 * 研判报告: the report API through the generated client, and the small rules of the reports page (which rows
 * are still being made, sizes, the default day, the days a report covers).
 */
import { api, unwrap } from '@/api/client'
import { downloadFile, type Downloaded } from '@/api/download'
import type { paths } from '@/api/schema'

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never
type Ok<Op, S extends number = 200> = Op extends { responses: { [K in S]: infer R } } ? Json<R> : never

export type ReportPage = Ok<paths['/api/v1/command/reports']['get']>
export type Report = ReportPage['items'][number]
export type ReportRequest = paths['/api/v1/command/reports']['post']['requestBody']['content']['application/json']
export type ReportPeriod = Report['period']
export type ReportStatus = Report['status']
export type ReportFormat = 'pdf' | 'xlsx'
export type ReportQuery = NonNullable<paths['/api/v1/command/reports']['get']['parameters']['query']>

export const PERIODS: readonly ReportPeriod[] = ['week', 'month']
export const ORIGINS: readonly Report['origin'][] = ['request', 'schedule']

export function listReports(query: ReportQuery): Promise<ReportPage> {
  return unwrap(api.GET('/api/v1/command/reports', { params: { query } }))
}

export function requestReport(body: ReportRequest): Promise<Report> {
  return unwrap(api.POST('/api/v1/command/reports', { body })) as Promise<Report>
}

export function downloadReport(report: Report, format: ReportFormat): Promise<Downloaded> {
  return downloadFile(
    api.GET('/api/v1/command/reports/{report_id}/file', {
      params: { path: { report_id: report.id }, query: { format } },
      parseAs: 'blob',
    }),
    `report-${report.id}.${format}`,
  )
}

/** Still being made: the list polls while any row is. */
export function isPending(status: ReportStatus): boolean {
  return status === 'queued' || status === 'running'
}

export function anyPending(reports: readonly Pick<Report, 'status'>[]): boolean {
  return reports.some((r) => isPending(r.status))
}

export function statusTag(status: ReportStatus): 'info' | 'warning' | 'success' | 'danger' {
  return { queued: 'info', running: 'warning', succeeded: 'success', failed: 'danger' }[status] as
    | 'info'
    | 'warning'
    | 'success'
    | 'danger'
}

/** 12.3 KB, 1.2 MB; '—' without a size. */
export function fileSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—'
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** The local (Asia/Shanghai) calendar day of `now`, as YYYY-MM-DD. */
export function localDay(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
}

/** The default day to report on: the last day of the previous week or month (a whole period). */
export function defaultDay(period: ReportPeriod, now: Date = new Date()): string {
  const [y, m, d] = localDay(now).split('-').map(Number) as [number, number, number]
  const today = new Date(Date.UTC(y, m - 1, d))
  if (period === 'month') return new Date(Date.UTC(y, m - 1, 0)).toISOString().slice(0, 10)
  const weekday = (today.getUTCDay() + 6) % 7 // Monday 0
  today.setUTCDate(today.getUTCDate() - weekday - 1)
  return today.toISOString().slice(0, 10)
}

/** Days after today cannot be asked for (the server refuses them too). */
export function isFuture(day: Date, now: Date = new Date()): boolean {
  const value = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`
  return value > localDay(now)
}
