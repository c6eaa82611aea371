import { describe, expect, it } from 'vitest'
import en from '@/i18n/en'
import { DEFAULT_LOCALE, storedLocale } from '@/i18n'
import zhCN from '@/i18n/zh-CN'

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort()
}

describe('messages', () => {
  it('have the same keys in both languages', () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort())
  })

  it('use the same placeholders in both languages', () => {
    const get = (obj: unknown, path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], obj)
    for (const key of keys(zhCN)) {
      expect(placeholders(String(get(en, key))), key).toEqual(placeholders(String(get(zhCN, key))))
    }
  })

  it('avoid vue-i18n special characters that would break compilation', () => {
    for (const key of keys(zhCN)) {
      for (const messages of [zhCN, en]) {
        const text = String(key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], messages))
        expect(text, key).not.toMatch(/[@|$%]/)
      }
    }
  })

  it('default to Chinese and remember the choice', () => {
    expect(DEFAULT_LOCALE).toBe('zh-CN')
    expect(storedLocale({ getItem: () => null })).toBe('zh-CN')
    expect(storedLocale({ getItem: () => 'en' })).toBe('en')
    expect(storedLocale({ getItem: () => 'fr' })).toBe('zh-CN')
    expect(
      storedLocale({
        getItem: () => {
          throw new Error('denied')
        },
      }),
    ).toBe('zh-CN')
  })
})
