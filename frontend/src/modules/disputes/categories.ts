/** The 28 dispute categories and the case categories of class 01, loaded once, labelled in the language shown. */
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { api, unwrap } from '@/api/client'
import type { CaseCategory, DisputeCategory } from './types'

const disputeCategories = ref<DisputeCategory[]>([])
const caseCategories = ref<CaseCategory[]>([])
let loading: Promise<void> | null = null

async function loadAll(): Promise<void> {
  const [disputes, cases] = await Promise.all([
    unwrap(api.GET('/api/v1/disputes/categories')),
    unwrap(api.GET('/api/v1/cases/categories')),
  ])
  disputeCategories.value = disputes
  caseCategories.value = cases.filter((c) => c.parent_code === '01')
}

export function useDisputeCategories() {
  const { locale } = useI18n()
  if (!loading) loading = loadAll().catch((error: unknown) => {
    loading = null
    throw error
  })
  const name = (c: { name_zh: string; name_en: string }) => (locale.value === 'en' ? c.name_en : c.name_zh)
  return {
    ready: loading,
    disputeCategories,
    caseCategories,
    name,
    label(code: string | null | undefined): string {
      const found = disputeCategories.value.find((c) => c.code === code)
      return found ? name(found) : (code ?? '')
    },
  }
}
