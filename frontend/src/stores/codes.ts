/**
 * Code tables of the registry (`GET /registry/codes`): loaded once per session and shared by every page.
 * Every coded field shows its label from here and every select offers these options, in their sort order.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, unwrap } from '@/api/client'
import type { CodeEntry } from '@/api/types'

export interface CodeOption {
  value: string
  label: string
}

export const useCodesStore = defineStore('codes', () => {
  const entries = ref<CodeEntry[]>([])
  const loaded = ref(false)
  let loading: Promise<void> | null = null

  const byTable = computed(() => {
    const tables = new Map<string, CodeEntry[]>()
    for (const entry of entries.value) {
      const list = tables.get(entry.table) ?? []
      list.push(entry)
      tables.set(entry.table, list)
    }
    for (const list of tables.values()) list.sort((a, b) => a.sort - b.sort)
    return tables
  })

  /** Load the tables once; concurrent callers share the request, a failure lets the next call retry. */
  function load(): Promise<void> {
    loading ??= unwrap(api.GET('/api/v1/registry/codes'))
      .then((all) => {
        entries.value = all
        loaded.value = true
      })
      .catch((error: unknown) => {
        loading = null
        throw error
      })
    return loading
  }

  function find(table: string, code: string | null | undefined): CodeEntry | undefined {
    if (code === null || code === undefined || code === '') return undefined
    return byTable.value.get(table)?.find((e) => e.code === code)
  }

  /** The label of a code in the language shown; the code itself when it is not (or no longer) in the table. */
  function label(table: string, code: string | null | undefined, locale: string): string {
    if (code === null || code === undefined || code === '') return ''
    const entry = find(table, code)
    if (!entry) return code
    return locale === 'en' ? entry.label_en : entry.label_zh
  }

  /** Active codes of a table as select options. */
  function options(table: string, locale: string): CodeOption[] {
    return (byTable.value.get(table) ?? [])
      .filter((e) => e.active)
      .map((e) => ({ value: e.code, label: locale === 'en' ? e.label_en : e.label_zh }))
  }

  function reset(): void {
    entries.value = []
    loaded.value = false
    loading = null
  }

  return { entries, loaded, load, find, label, options, reset }
})
