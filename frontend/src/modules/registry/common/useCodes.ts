/** Code-table labels and options in the language shown (the tables load once per session). */
import { useI18n } from 'vue-i18n'
import { useCodesStore, type CodeOption } from '@/stores/codes'

export function useCodes(): {
  label: (table: string, code: string | null | undefined) => string
  options: (table: string) => CodeOption[]
} {
  const store = useCodesStore()
  const { locale } = useI18n()
  void store.load().catch(() => undefined) // pages still work, showing codes instead of labels
  return {
    label: (table, code) => store.label(table, code, locale.value),
    options: (table) => store.options(table, locale.value),
  }
}
