import { describe, expect, it } from 'vitest'
import * as reveal from '@/modules/registry/people/revealState'

const VALUES: reveal.RevealedValues = {
  name: '杨英娟',
  birth_date: '1988-02-04',
  id_number: '340303198802045244',
  phone: '13966119495',
  document_no: null,
  audit_seq: 81,
}

describe('reveal with purpose', () => {
  it('needs a purpose of 4 to 500 characters before it can be sent', () => {
    expect(reveal.purposeProblem('')).toBe('required')
    expect(reveal.purposeProblem('   ')).toBe('required')
    expect(reveal.purposeProblem('核实')).toBe('too_short')
    expect(reveal.purposeProblem('核实身份')).toBe(null)
    expect(reveal.purposeProblem('x'.repeat(501))).toBe('too_long')
    let state = reveal.open()
    expect(reveal.canSubmit(state)).toBe(false)
    state = reveal.setPurpose(state, '核实身份办理低保')
    expect(reveal.canSubmit(state)).toBe(true)
  })

  it('goes editing → submitting → revealed and keeps the audit number', () => {
    let state = reveal.setPurpose(reveal.open(), '核实身份办理低保')
    state = reveal.submit(state)
    expect(state.phase).toBe('submitting')
    expect(reveal.submit(state)).toBe(state) // a second click sends nothing
    state = reveal.succeed(state, VALUES)
    expect(state.phase).toBe('revealed')
    expect(state.values?.audit_seq).toBe(81)
  })

  it('returns to editing with the error when the server refuses', () => {
    let state = reveal.submit(reveal.setPurpose(reveal.open(), '核实身份办理低保'))
    state = reveal.fail(state, 'you may not see personal data')
    expect(state).toMatchObject({ phase: 'editing', error: 'you may not see personal data', values: null })
    state = reveal.setPurpose(state, '核实身份办理低保申请')
    expect(state.error).toBe(null)
  })

  it('does not submit an invalid purpose nor accept late answers', () => {
    const state = reveal.setPurpose(reveal.open(), 'ab')
    expect(reveal.submit(state)).toBe(state)
    expect(reveal.succeed(reveal.open(), VALUES).phase).toBe('editing')
    expect(reveal.fail(reveal.close(), 'late').phase).toBe('closed')
  })

  it('forgets the unmasked values and the purpose when closed', () => {
    const shown = reveal.succeed(reveal.submit(reveal.setPurpose(reveal.open(), '核实身份办理低保')), VALUES)
    const closed = reveal.close()
    expect(closed).toEqual({ phase: 'closed', purpose: '', error: null, values: null })
    expect(shown.values).not.toBe(null)
    expect(reveal.setPurpose(closed, 'typing into a closed dialog')).toBe(closed)
  })
})
