import { describe, expect, it } from 'vitest'
import { configProblems, DEFAULT_FORM, definitionFromForm, formFromDefinition, weightSummary, weightTotal } from '@/modules/safety/indexConfig'

const stored = {
  indicators: { crime_order: 0.5, fire: 0.2, traffic: 0.2, disputes: 0.1 },
  per_residents: 10000,
  baseline: 'peers',
  scoring: { prior: 3, slope: 40, death_points: 5, death_cap: 20 },
  bands: { green: 85, yellow: 75, orange: 60 },
  escalation: { notice: 3, interview: 5 },
}

describe('index configuration form', () => {
  it('is made from a stored definition, defaults where it is silent', () => {
    const form = formFromDefinition(stored, '2025 版')
    expect(form.weights).toEqual({ crime_order: 50, fire: 20, traffic: 20, disputes: 10, hazards: 0 })
    expect(form).toMatchObject({ name: '2025 版', baseline: 'peers', slope: 40, green: 85, interview: 5 })
    const empty = formFromDefinition({})
    expect(empty.weights).toEqual(DEFAULT_FORM.weights)
    expect(formFromDefinition({ baseline: 'moon' }).baseline).toBe('three_year')
  })

  it('goes back to the same definition', () => {
    expect(definitionFromForm(formFromDefinition(stored, 'x'))).toEqual(stored)
  })

  it('adds weights in percent without float noise', () => {
    expect(weightTotal({ weights: { crime_order: 33.3, fire: 33.3, traffic: 33.4, disputes: 0, hazards: 0 } })).toBe(100)
  })

  it('finds every problem the server would report', () => {
    const form = { ...formFromDefinition(stored, ''), weights: { crime_order: 50, fire: 20, traffic: 20, disputes: 0, hazards: 0 }, green: 70, notice: 5, slope: 0 }
    expect(configProblems(form)).toEqual([
      { key: 'name' },
      { key: 'weights', total: 90 },
      { key: 'bands' },
      { key: 'escalation' },
      { key: 'range', field: 'slope' },
    ])
    expect(configProblems({ ...DEFAULT_FORM, name: 'ok', weights: { crime_order: 0, fire: 0, traffic: 0, disputes: 0, hazards: 0 } })).toEqual([{ key: 'noIndicator' }])
    expect(configProblems({ ...DEFAULT_FORM, name: 'ok' })).toEqual([])
  })

  it('summarises the weights for a list', () => {
    expect(weightSummary(stored, (i) => i.toUpperCase())).toBe('CRIME_ORDER 50 % · FIRE 20 % · TRAFFIC 20 % · DISPUTES 10 %')
  })
})
