/**
 * The index's colour bands (green/yellow/orange/red, DESIGN.md §8) and the figures the safety pages show:
 * one colour per band everywhere (map, tags, charts), the band of a score under the active thresholds, and
 * numbers as a person reads them (rates per 10,000, ratios, signed contributions, probabilities).
 */

export type Band = 'green' | 'yellow' | 'orange' | 'red'
/** Best to worst. */
export const BANDS: readonly Band[] = ['green', 'yellow', 'orange', 'red']

export const BAND_COLOURS: Readonly<Record<Band, string>> = {
  green: '#2f9e44',
  yellow: '#f2c200',
  orange: '#f76707',
  red: '#e03131',
}
/** Areas without a score (no data yet, or outside what was computed). */
export const NO_BAND_COLOUR = '#ced4da'

/** Element Plus tag types for a band (yellow and orange both read as a warning; orange is given its colour). */
export const BAND_TAG: Readonly<Record<Band, 'success' | 'warning' | 'danger'>> = {
  green: 'success',
  yellow: 'warning',
  orange: 'warning',
  red: 'danger',
}

export function isBand(value: unknown): value is Band {
  return typeof value === 'string' && (BANDS as readonly string[]).includes(value)
}

export function bandColour(band: unknown): string {
  return isBand(band) ? BAND_COLOURS[band] : NO_BAND_COLOUR
}

/** The lowest score of each band but the last (a score at or above `green` is green, …, below `orange` red). */
export interface BandThresholds {
  green: number
  yellow: number
  orange: number
}

export function isThresholds(value: unknown): value is BandThresholds {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (['green', 'yellow', 'orange'] as const).every((k) => typeof v[k] === 'number' && Number.isFinite(v[k]))
}

export function bandOf(score: number | null | undefined, thresholds: BandThresholds): Band | null {
  if (score === null || score === undefined || Number.isNaN(score)) return null
  if (score >= thresholds.green) return 'green'
  if (score >= thresholds.yellow) return 'yellow'
  if (score >= thresholds.orange) return 'orange'
  return 'red'
}

/** The score interval of each band, best first: `[low, high)`; green's high is 100, red's low 0. */
export function bandRanges(thresholds: BandThresholds): { band: Band; low: number; high: number }[] {
  return [
    { band: 'green', low: thresholds.green, high: 100 },
    { band: 'yellow', low: thresholds.yellow, high: thresholds.green },
    { band: 'orange', low: thresholds.orange, high: thresholds.yellow },
    { band: 'red', low: 0, high: thresholds.orange },
  ]
}

/** A MapLibre `fill-color` expression colouring features by their `band` property. */
export function bandFillExpression(property = 'band'): unknown[] {
  return ['match', ['coalesce', ['get', property], ''], ...BANDS.flatMap((b) => [b, BAND_COLOURS[b]]), NO_BAND_COLOUR]
}

/** How many areas fall in each band (and without one). */
export function bandCounts(bands: readonly (string | null | undefined)[]): Record<Band | 'none', number> {
  const counts: Record<Band | 'none', number> = { green: 0, yellow: 0, orange: 0, red: 0, none: 0 }
  for (const b of bands) counts[isBand(b) ? b : 'none'] += 1
  return counts
}

// -- numbers ---------------------------------------------------------------------------------------------------

const DASH = '—'

function finite(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function nf(locale: string, digits: number, min = 0): Intl.NumberFormat {
  return new Intl.NumberFormat(locale === 'en' ? 'en-GB' : 'zh-CN', { maximumFractionDigits: digits, minimumFractionDigits: min })
}

/** A score, one decimal: `87.4`. */
export function formatScore(value: number | null | undefined, locale: string): string {
  return finite(value) ? nf(locale, 1, 1).format(value) : DASH
}

/** A rate per 10,000 residents: two significant decimals for small rates, one above 10. */
export function formatRate(value: number | null | undefined, locale: string): string {
  if (!finite(value)) return DASH
  return nf(locale, Math.abs(value) >= 10 ? 1 : 2).format(value)
}

/** A count (thousands separated). */
export function formatCount(value: number | null | undefined, locale: string): string {
  return finite(value) ? nf(locale, 0).format(value) : DASH
}

/** observed ÷ expected: `1.35×`. */
export function formatRatio(value: number | null | undefined, locale: string): string {
  if (!finite(value)) return DASH
  // Two decimals tell 1.25× from 1.5×; far above the usual they are noise (714.29×): whole numbers then.
  return value >= 10 ? `${nf(locale, 0, 0).format(value)}×` : `${nf(locale, 2, 2).format(value)}×`
}

/** A signed contribution in points: `+3.2`, `−1.5`, `0.0`. */
export function formatSigned(value: number | null | undefined, locale: string): string {
  if (!finite(value)) return DASH
  const rounded = Math.round(value * 10) / 10
  const text = nf(locale, 1, 1).format(Math.abs(rounded))
  return rounded > 0 ? `+${text}` : rounded < 0 ? `−${text}` : text
}

/** A share (0–1) as a percentage: `60 %`, `12.5 %`. */
export function formatShare(value: number | null | undefined, locale: string): string {
  return finite(value) ? `${nf(locale, 1).format(value * 100)} %` : DASH
}

/**
 * A probability or q-value as a person reads it: `< 0.001` when tiny, else three decimals
 * (`0.012`), and `1 in N` odds are left to the caller's sentence.
 */
export function formatProbability(value: number | null | undefined, locale: string): string {
  if (!finite(value)) return DASH
  if (value < 0.001) return `< ${nf(locale, 3, 3).format(0.001)}`
  return nf(locale, 3, 3).format(value)
}

/** Odds beyond which "1 in N" stops meaning anything to a reader (a model's tail, not an experience). */
export const RAREST_ODDS = 1_000_000

/**
 * "About 1 in N": how rare a count at least this high would be by chance — null when not rare at all, and
 * when rarer than one in a million (say "less than one in a million" instead).
 */
export function oneIn(probability: number | null | undefined): number | null {
  if (!finite(probability) || probability <= 0 || probability >= 0.5 || probability < 1 / RAREST_ODDS) return null
  const n = 1 / probability
  if (n >= 1000) return Math.round(n / 1000) * 1000
  if (n >= 100) return Math.round(n / 10) * 10
  return Math.round(n)
}
