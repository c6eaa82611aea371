/**
 * State of the "reveal with purpose" dialog, kept out of the component so it can be tested.
 *
 * closed → editing (purpose typed) → submitting → revealed | editing with an error; closing from any state
 * forgets the purpose and the unmasked values, so they stay in memory only while the dialog shows them.
 */
export const PURPOSE_MIN = 4 // RevealIn.purpose min_length
export const PURPOSE_MAX = 500

export interface RevealedValues {
  name: string
  birth_date: string
  id_number: string | null
  phone: string | null
  document_no: string | null
  audit_seq: number
}

export type RevealPhase = 'closed' | 'editing' | 'submitting' | 'revealed'

export interface RevealState {
  phase: RevealPhase
  purpose: string
  error: string | null
  values: RevealedValues | null
}

export type PurposeProblem = 'required' | 'too_short' | 'too_long' | null

export function initialReveal(): RevealState {
  return { phase: 'closed', purpose: '', error: null, values: null }
}

export function purposeProblem(purpose: string): PurposeProblem {
  const text = purpose.trim()
  if (!text) return 'required'
  if ([...text].length < PURPOSE_MIN) return 'too_short'
  if ([...text].length > PURPOSE_MAX) return 'too_long'
  return null
}

export function canSubmit(state: RevealState): boolean {
  return state.phase === 'editing' && purposeProblem(state.purpose) === null
}

export function open(): RevealState {
  return { phase: 'editing', purpose: '', error: null, values: null }
}

export function setPurpose(state: RevealState, purpose: string): RevealState {
  if (state.phase !== 'editing') return state
  return { ...state, purpose, error: null }
}

export function submit(state: RevealState): RevealState {
  if (!canSubmit(state)) return state
  return { ...state, phase: 'submitting', error: null }
}

export function succeed(state: RevealState, values: RevealedValues): RevealState {
  if (state.phase !== 'submitting') return state
  return { ...state, phase: 'revealed', values }
}

export function fail(state: RevealState, error: string): RevealState {
  if (state.phase !== 'submitting') return state
  return { ...state, phase: 'editing', error }
}

/** Closing forgets everything, the unmasked values first of all. */
export function close(): RevealState {
  return initialReveal()
}
