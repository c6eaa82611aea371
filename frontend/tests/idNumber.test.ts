import { describe, expect, it } from 'vitest'
import { checkCharacter, checkIdNumber, makeIdNumber, normaliseIdNumber, phoneDigits, plausiblePhone } from '@/lib/idNumber'

const TODAY = '2026-11-29'

describe('GB 11643 ID numbers', () => {
  it('computes the ISO 7064 MOD 11-2 check character', () => {
    // The standard's own example: 11010519491231002X.
    expect(checkCharacter('11010519491231002')).toBe('X')
    expect(checkCharacter('34030319900101123')).toBe('3')
  })

  it('accepts a valid number and reads birth date and sex', () => {
    const check = checkIdNumber('11010519491231002X', TODAY)
    expect(check).toEqual({ ok: true, value: { number: '11010519491231002X', regionCode: '110105', birthDate: '1949-12-31', sex: '2' } })
    const male = checkIdNumber(makeIdNumber('340303', '1990-01-01', 123), TODAY)
    expect(male.ok && male.value.sex).toBe('1')
  })

  it('normalises full-width characters, spaces and a lower-case x', () => {
    expect(normaliseIdNumber(' １１０１０５ 19491231002x ')).toBe('11010519491231002X')
    expect(checkIdNumber('110105 1949 1231 002x', TODAY).ok).toBe(true)
  })

  it('names one problem per failure', () => {
    expect(checkIdNumber('1101051949123100', TODAY)).toMatchObject({ ok: false, problem: 'length' })
    expect(checkIdNumber('11010519491231X02X', TODAY)).toMatchObject({ ok: false, problem: 'characters', position: 15 })
    expect(checkIdNumber(makeIdNumber('110105', '1949-02-30', 2).slice(0, 17) + '0', TODAY)).toMatchObject({ ok: false, problem: 'birth_date' })
    expect(checkIdNumber(makeIdNumber('110105', '2030-01-01', 2), TODAY)).toMatchObject({ ok: false, problem: 'birth_date_future' })
    expect(checkIdNumber(makeIdNumber('110105', '1899-12-31', 2), TODAY)).toMatchObject({ ok: false, problem: 'birth_date_too_early' })
    expect(checkIdNumber('110105194912310021', TODAY)).toMatchObject({ ok: false, problem: 'checksum', expected: 'X' })
  })

  it('catches every single-digit typo (the point of the check character)', () => {
    const good = makeIdNumber('340303', '1985-06-15', 431)
    for (let i = 0; i < 17; i++) {
      const digit = Number(good[i])
      const typo = good.slice(0, i) + String((digit + 1) % 10) + good.slice(i + 1)
      const check = checkIdNumber(typo, TODAY)
      expect(check.ok, typo).toBe(false)
    }
  })
})

describe('phones', () => {
  it('accepts mobiles and landlines, with +86 and separators', () => {
    expect(plausiblePhone('13812345678')).toBe(true)
    expect(plausiblePhone('+86 138 1234 5678')).toBe(true)
    expect(plausiblePhone('0552-1234567')).toBe(true)
    expect(plausiblePhone('(0552) 1234567')).toBe(true)
    expect(phoneDigits('0086 13812345678')).toBe('13812345678')
  })

  it('refuses obvious typos', () => {
    expect(plausiblePhone('1381234567')).toBe(false)
    expect(plausiblePhone('12812345678')).toBe(false)
    expect(plausiblePhone('call me')).toBe(false)
  })
})
