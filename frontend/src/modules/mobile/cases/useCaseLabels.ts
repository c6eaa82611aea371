/** Labels of case statuses, actions and levels in the current language, and the countdown text. */
import { useI18n } from 'vue-i18n'
import { countdown, currentDue, type Dated } from './deadline'

export function useCaseLabels() {
  const { t, te } = useI18n()
  const status = (s: string): string => (te(`field.status.${s}`) ? t(`field.status.${s}`) : s)
  const action = (a: string): string => (te(`field.action.${a}`) ? t(`field.action.${a}`) : a)
  const level = (l: string): string => (te(`field.case.level_${l}`) ? t(`field.case.level_${l}`) : l)

  /** "剩 2天3小时" / "超期 5小时12分", or null when no deadline runs. */
  function due(c: Dated, now: Date = new Date()): { text: string; overdue: boolean } | null {
    const at = currentDue(c)
    if (!at) return null
    const left = countdown(at, now)
    const time = left.days > 0 ? t('field.dhm', { d: left.days, h: left.hours }) : t('field.hm', { h: left.hours, m: left.minutes })
    return { text: t(left.overdue ? 'field.overdue' : 'field.left', { time }), overdue: left.overdue }
  }

  return { status, action, level, due }
}

/** Vant tag types by status: waiting (warning), being worked (primary), done (success), refused (default). */
export function statusTagType(s: string): 'warning' | 'primary' | 'success' | 'default' | 'danger' {
  if (s === 'reported' || s === 'escalated' || s === 'returned') return 'warning'
  if (s === 'closed') return 'success'
  if (s === 'rejected') return 'default'
  return 'primary'
}
