/** Checks of the "record a visit" form (the server checks again). Values are i18n keys. */
export interface VisitForm {
  visited_on: string | null
  form: string | null
  findings: string
  next_visit_due: string | null
}

export function visitProblems(visit: VisitForm, today: string): Record<string, string> {
  const p: Record<string, string> = {}
  if (!visit.visited_on) p.visited_on = 'registry.common.required'
  else if (visit.visited_on > today) p.visited_on = 'registry.care.futureDate'
  if (!visit.form) p.form = 'registry.common.required'
  if ([...visit.findings.trim()].length < 2) p.findings = 'registry.care.findingsTooShort'
  if (visit.next_visit_due && visit.visited_on && visit.next_visit_due <= visit.visited_on) p.next_visit_due = 'registry.care.nextAfter'
  return p
}

/** The next visit the server will set when none is given: visited_on + interval days. */
export function defaultNextVisit(visitedOn: string, intervalDays: number): string {
  const date = new Date(`${visitedOn}T00:00:00Z`)
  date.setUTCDate(date.getUTCDate() + intervalDays)
  return date.toISOString().slice(0, 10)
}
