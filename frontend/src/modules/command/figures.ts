/**
 * Today's key figures and how they compare with yesterday: the change in count and in percent, and whether
 * the change is bad news (more police calls, more overdue cases) or good news (more cases closed).
 */

export type Trend = 'up' | 'down' | 'flat'

export interface Delta {
  /** today − yesterday */
  diff: number
  /** the change relative to yesterday (null when yesterday was 0) */
  ratio: number | null
  trend: Trend
  /** whether the change is for the worse, given which direction is good */
  worse: boolean
}

/**
 * The change from `yesterday` to `today`; null when either is unknown. `higherIsBetter` says which way is good
 * (closed cases: up is good; police calls, overdue cases: up is bad).
 */
export function delta(today: number | null | undefined, yesterday: number | null | undefined, higherIsBetter = false): Delta | null {
  if (typeof today !== 'number' || typeof yesterday !== 'number' || !Number.isFinite(today) || !Number.isFinite(yesterday)) {
    return null
  }
  const diff = today - yesterday
  const trend: Trend = diff > 0 ? 'up' : diff < 0 ? 'down' : 'flat'
  return {
    diff,
    ratio: yesterday === 0 ? null : diff / yesterday,
    trend,
    worse: trend !== 'flat' && (trend === 'up') !== higherIsBetter,
  }
}

/**
 * A short text of the change: `+12 (+8.5 %)`, `−3 (−20 %)`, `±0`; the percent left out when yesterday was 0.
 * A share of today's count so far against a whole yesterday is honest only late in the day, so the caller
 * labels it "vs yesterday".
 */
export function deltaText(d: Delta | null, locale: string): string {
  if (!d) return ''
  const nf = new Intl.NumberFormat(locale === 'en' ? 'en-GB' : 'zh-CN', { maximumFractionDigits: 1 })
  if (d.trend === 'flat') return '±0'
  const sign = d.diff > 0 ? '+' : '−'
  const count = `${sign}${nf.format(Math.abs(d.diff))}`
  if (d.ratio === null) return count
  return `${count} (${sign}${nf.format(Math.abs(d.ratio) * 100)} %)`
}

/** A figure's value for the screen: thousands separated, '—' when unknown. */
export function figureText(value: number | null | undefined, locale: string): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—'
  return new Intl.NumberFormat(locale === 'en' ? 'en-GB' : 'zh-CN', { maximumFractionDigits: 0 }).format(value)
}
