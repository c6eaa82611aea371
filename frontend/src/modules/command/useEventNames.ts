/**
 * Names for what the live events carry only as codes — case and incident categories, call sources — in the
 * language shown. The category lists are read once; until they arrive (or if they cannot be read) the code
 * stands in for the name.
 */
import { reactive } from 'vue'
import { useI18n } from 'vue-i18n'
import { loadCategories } from '@/modules/cases/caseApi'
import { loadSafetyCategories, type SafetyCategory } from './commandApi'
import type { Names } from './useCommandData'

type Named = Map<string, { zh: string; en: string }>

/** `readsSafety`: whether the user may read the safety categories (others never see incidents). */
export function useEventNames(readsSafety: boolean): Names {
  const { t, locale } = useI18n()
  const caseCategories: Named = reactive(new Map())
  const incidentCategories: Named = reactive(new Map())

  function named(table: Named, code: string): string {
    const entry = table.get(code)
    return entry ? (locale.value === 'en' ? entry.en : entry.zh) : code
  }
  function addSafetyCategories(list: readonly SafetyCategory[]): void {
    for (const c of list) {
      incidentCategories.set(c.code, { zh: c.name_zh, en: c.name_en })
      if (c.children) addSafetyCategories(c.children)
    }
  }

  void loadCategories()
    .then((list) => list.forEach((c) => caseCategories.set(c.code, { zh: c.name_zh, en: c.name_en })))
    .catch(() => undefined)
  if (readsSafety) {
    void loadSafetyCategories()
      .then(addSafetyCategories)
      .catch(() => undefined)
  }

  return {
    category: (code) => named(caseCategories, code),
    incidentCategory: (code) => named(incidentCategories, code),
    source: (source) => {
      const key = `safety.feeds.sources.${source}`
      const text = t(key)
      return text === key ? source : text
    },
  }
}
