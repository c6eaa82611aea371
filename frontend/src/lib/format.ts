/** Display formatting: Asia/Shanghai time (DESIGN §5), locale-aware numbers. */
import type { Locale } from '@/i18n'

export const DISPLAY_TIME_ZONE = 'Asia/Shanghai'

function intlLocale(locale: Locale): string {
  return locale === 'zh-CN' ? 'zh-CN' : 'en-GB'
}

/** `2024-05-01T02:03:04Z` → `2024-05-01 10:03:04` in Shanghai time; '' for null/invalid. */
export function formatDateTime(value: string | null | undefined, timeZone: string = DISPLAY_TIME_ZONE): string {
  if (!value) return ''
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return ''
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date)
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? ''
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`
}

export function formatNumber(value: number | null | undefined, locale: Locale, digits = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—'
  return new Intl.NumberFormat(intlLocale(locale), {
    maximumFractionDigits: digits,
    minimumFractionDigits: 0,
  }).format(value)
}

/** A local `datetime-local`-style value in Shanghai time ("2024-05-01 10:00:00") to ISO 8601 with offset. */
export function shanghaiToIso(value: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim())
  if (!match) return value
  const [, y, mo, d, h, mi, s = '00'] = match
  return `${y}-${mo}-${d}T${h}:${mi}:${s}+08:00`
}
