/**
 * The index configuration as an administrator edits it (safety/index_config.py): indicators with weights in
 * percent, the residents a rate is per, the baseline, the scoring, the bands and the escalation. A form is
 * made from a stored definition (defaults filled in where it is silent), checked as the server checks it
 * (every problem at once), and turned back into a definition.
 */

export const INDICATORS = ['crime_order', 'fire', 'traffic', 'disputes', 'hazards'] as const
export type Indicator = (typeof INDICATORS)[number]
export const BASELINES = ['three_year', 'year_on_year', 'previous', 'peers'] as const
export type Baseline = (typeof BASELINES)[number]

export interface ConfigForm {
  name: string
  /** weight in percent; 0 = not used */
  weights: Record<Indicator, number>
  perResidents: number
  baseline: Baseline
  prior: number
  slope: number
  deathPoints: number
  deathCap: number
  green: number
  yellow: number
  orange: number
  notice: number
  interview: number
}

export const DEFAULT_FORM: Readonly<ConfigForm> = {
  name: '',
  weights: { crime_order: 60, fire: 20, traffic: 20, disputes: 0, hazards: 0 },
  perResidents: 10_000,
  baseline: 'three_year',
  prior: 3,
  slope: 50,
  deathPoints: 5,
  deathCap: 20,
  green: 90,
  yellow: 80,
  orange: 70,
  notice: 3,
  interview: 4,
}

function obj(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback
}

/** Weights in percent, rounded to 0.1 (a stored 0.6 shows as 60). */
function percent(weight: number): number {
  return Math.round(weight * 1000) / 10
}

/** A form from a stored definition (or the defaults), named `name`. */
export function formFromDefinition(definition: unknown, name = ''): ConfigForm {
  const d = obj(definition)
  const indicators = obj(d.indicators)
  const scoring = obj(d.scoring)
  const bands = obj(d.bands)
  const escalation = obj(d.escalation)
  const hasIndicators = Object.keys(indicators).length > 0
  const weights = { ...DEFAULT_FORM.weights }
  if (hasIndicators) for (const i of INDICATORS) weights[i] = percent(num(indicators[i], 0))
  const baseline = (BASELINES as readonly string[]).includes(String(d.baseline)) ? (d.baseline as Baseline) : DEFAULT_FORM.baseline
  return {
    name,
    weights,
    perResidents: num(d.per_residents, DEFAULT_FORM.perResidents),
    baseline,
    prior: num(scoring.prior, DEFAULT_FORM.prior),
    slope: num(scoring.slope, DEFAULT_FORM.slope),
    deathPoints: num(scoring.death_points, DEFAULT_FORM.deathPoints),
    deathCap: num(scoring.death_cap, DEFAULT_FORM.deathCap),
    green: num(bands.green, DEFAULT_FORM.green),
    yellow: num(bands.yellow, DEFAULT_FORM.yellow),
    orange: num(bands.orange, DEFAULT_FORM.orange),
    notice: num(escalation.notice, DEFAULT_FORM.notice),
    interview: num(escalation.interview, DEFAULT_FORM.interview),
  }
}

/** The sum of the weights in percent (to 0.1). */
export function weightTotal(form: Pick<ConfigForm, 'weights'>): number {
  return Math.round(INDICATORS.reduce((sum, i) => sum + (form.weights[i] || 0), 0) * 10) / 10
}

export type ConfigProblem =
  | { key: 'name' }
  | { key: 'noIndicator' }
  | { key: 'weights'; total: number }
  | { key: 'bands' }
  | { key: 'escalation' }
  | { key: 'range'; field: string }

/** Every problem the server would report (InvalidInput details), found before sending. */
export function configProblems(form: ConfigForm): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  if (!form.name.trim()) problems.push({ key: 'name' })
  const used = INDICATORS.filter((i) => form.weights[i] > 0)
  if (!used.length) problems.push({ key: 'noIndicator' })
  const total = weightTotal(form)
  if (used.length && Math.abs(total - 100) > 0.1) problems.push({ key: 'weights', total })
  if (INDICATORS.some((i) => form.weights[i] < 0)) problems.push({ key: 'range', field: 'weights' })
  if (!(form.green > form.yellow && form.yellow > form.orange)) problems.push({ key: 'bands' })
  if (!(form.interview > form.notice)) problems.push({ key: 'escalation' })
  const ranges: [string, number, number, number][] = [
    ['perResidents', form.perResidents, 1, 10_000_000],
    ['prior', form.prior, 0, 1000],
    ['slope', form.slope, 0.001, 1000],
    ['deathPoints', form.deathPoints, 0, 100],
    ['deathCap', form.deathCap, 0, 100],
    ['green', form.green, 0.001, 100],
    ['yellow', form.yellow, 0.001, 100],
    ['orange', form.orange, 0.001, 100],
    ['notice', form.notice, 1, 100],
    ['interview', form.interview, 1, 100],
  ]
  for (const [field, value, low, high] of ranges) {
    if (!Number.isFinite(value) || value < low || value > high) problems.push({ key: 'range', field })
  }
  return problems
}

/** The definition to POST: weights as fractions adding up to 1, only the indicators used. */
export function definitionFromForm(form: ConfigForm): Record<string, unknown> {
  const indicators: Record<string, number> = {}
  for (const i of INDICATORS) if (form.weights[i] > 0) indicators[i] = Math.round(form.weights[i] * 10) / 1000
  return {
    indicators,
    per_residents: Math.round(form.perResidents),
    baseline: form.baseline,
    scoring: { prior: form.prior, slope: form.slope, death_points: form.deathPoints, death_cap: form.deathCap },
    bands: { green: form.green, yellow: form.yellow, orange: form.orange },
    escalation: { notice: Math.round(form.notice), interview: Math.round(form.interview) },
  }
}

/** "刑事治安 60 % · 火灾 20 % …" for a list row, with the indicator names given. */
export function weightSummary(definition: unknown, name: (indicator: string) => string): string {
  const indicators = obj(obj(definition).indicators)
  return Object.entries(indicators)
    .filter(([, w]) => typeof w === 'number')
    .map(([i, w]) => `${name(i)} ${percent(w as number)} %`)
    .join(' · ')
}
