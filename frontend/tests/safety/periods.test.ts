import { describe, expect, it } from 'vitest'
import {
  isDay,
  isoWeek,
  lastCompletePeriod,
  lastPeriods,
  nextStart,
  periodEnd,
  periodLabel,
  periodRange,
  periodStart,
  previousStart,
  shanghaiToday,
  shiftPeriod,
} from '@/modules/safety/periods'

describe('periods on the local calendar (as safety/periods.py)', () => {
  it('find the period containing a day', () => {
    expect(periodStart('day', '2024-05-17')).toBe('2024-05-17')
    expect(periodStart('week', '2024-05-17')).toBe('2024-05-13') // a Friday → its Monday
    expect(periodStart('week', '2024-05-13')).toBe('2024-05-13')
    expect(periodStart('week', '2024-05-19')).toBe('2024-05-13') // Sunday ends the ISO week
    expect(periodStart('dekad', '2024-05-10')).toBe('2024-05-01')
    expect(periodStart('dekad', '2024-05-11')).toBe('2024-05-11')
    expect(periodStart('dekad', '2024-05-20')).toBe('2024-05-11')
    expect(periodStart('dekad', '2024-05-31')).toBe('2024-05-21')
    expect(periodStart('month', '2024-02-29')).toBe('2024-02-01')
  })

  it('step to the next and previous period across months and years', () => {
    expect(nextStart('dekad', '2024-02-21')).toBe('2024-03-01')
    expect(previousStart('dekad', '2024-03-01')).toBe('2024-02-21')
    expect(nextStart('month', '2024-12-01')).toBe('2025-01-01')
    expect(previousStart('month', '2024-01-01')).toBe('2023-12-01')
    expect(nextStart('week', '2024-12-30')).toBe('2025-01-06')
    expect(previousStart('day', '2024-03-01')).toBe('2024-02-29')
  })

  it('end on the right day (the last dekad runs to the month end)', () => {
    expect(periodEnd('dekad', '2024-02-21')).toBe('2024-02-29')
    expect(periodEnd('dekad', '2023-02-21')).toBe('2023-02-28')
    expect(periodEnd('dekad', '2024-05-21')).toBe('2024-05-31')
    expect(periodEnd('dekad', '2024-05-11')).toBe('2024-05-20')
    expect(periodEnd('week', '2024-05-13')).toBe('2024-05-19')
    expect(periodEnd('month', '2024-04-01')).toBe('2024-04-30')
    expect(periodEnd('day', '2024-04-01')).toBe('2024-04-01')
    expect(periodRange('day', '2024-04-01')).toBe('2024-04-01')
    expect(periodRange('dekad', '2024-04-11')).toBe('2024-04-11 – 2024-04-20')
  })

  it('list the last periods oldest first and shift by several', () => {
    expect(lastPeriods('month', '2024-02-15', 3)).toEqual(['2023-12-01', '2024-01-01', '2024-02-01'])
    expect(lastPeriods('dekad', '2024-03-05', 4)).toEqual(['2024-02-01', '2024-02-11', '2024-02-21', '2024-03-01'])
    expect(lastPeriods('week', '2024-01-03', 12)).toHaveLength(12)
    expect(shiftPeriod('dekad', '2024-01-25', 2)).toBe('2024-02-11')
    expect(shiftPeriod('dekad', '2024-01-25', -3)).toBe('2023-12-21')
    expect(shiftPeriod('month', '2024-03-31', 0)).toBe('2024-03-01')
  })

  it('take the last complete period before today', () => {
    expect(lastCompletePeriod('day', '2024-05-17')).toBe('2024-05-16')
    expect(lastCompletePeriod('week', '2024-05-17')).toBe('2024-05-06')
    expect(lastCompletePeriod('dekad', '2024-05-17')).toBe('2024-05-01')
    expect(lastCompletePeriod('month', '2024-01-10')).toBe('2023-12-01')
  })

  it('number ISO weeks at the turn of the year', () => {
    expect(isoWeek('2024-12-30')).toEqual({ year: 2025, week: 1 })
    expect(isoWeek('2021-01-03')).toEqual({ year: 2020, week: 53 })
    expect(isoWeek('2024-05-13')).toEqual({ year: 2024, week: 20 })
  })

  it('name periods in Chinese and English', () => {
    expect(periodLabel('dekad', '2024-05-11', 'zh-CN')).toBe('2024年5月中旬')
    expect(periodLabel('dekad', '2024-05-21', 'zh-CN', true)).toBe('5月下旬')
    expect(periodLabel('month', '2024-05-01', 'zh-CN')).toBe('2024年5月')
    expect(periodLabel('week', '2024-05-13', 'zh-CN')).toBe('2024年第20周')
    expect(periodLabel('day', '2024-05-13', 'zh-CN', true)).toBe('5/13')
    expect(periodLabel('dekad', '2024-05-01', 'en')).toBe('May 2024, early')
    expect(periodLabel('week', '2024-12-30', 'en')).toBe('2025 W1')
    expect(periodLabel('day', '2024-05-13', 'en')).toBe('13 May 2024')
    expect(periodLabel('month', '2024-05-01', 'en', true)).toBe('May')
  })

  it('refuse what is not a day', () => {
    expect(isDay('2024-02-30')).toBe(false)
    expect(isDay('2024-2-3')).toBe(false)
    expect(isDay(null)).toBe(false)
    expect(isDay('2024-02-29')).toBe(true)
    expect(() => periodStart('day', 'tomorrow')).toThrow(RangeError)
  })

  it('take today on the Shanghai calendar', () => {
    expect(shanghaiToday(new Date('2024-05-31T17:00:00Z'))).toBe('2024-06-01')
    expect(shanghaiToday(new Date('2024-05-31T15:59:59Z'))).toBe('2024-05-31')
  })
})
