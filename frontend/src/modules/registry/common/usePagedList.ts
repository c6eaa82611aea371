/**
 * A paginated list page: page, size, total, rows, loading, and a load that ignores stale answers. A failed
 * load is shown as a message, or handed to `onError` (a page that shows it in place).
 */
import { ElMessage } from 'element-plus'
import { ref, shallowRef, type Ref } from 'vue'
import { errorText } from './errors'

export interface PageOf<T> {
  items: T[]
  total: number
}

export function usePagedList<T>(
  fetchPage: (page: number, pageSize: number) => Promise<PageOf<T>>,
  pageSize = 20,
  onError: (error: unknown) => void = (error) => ElMessage.error(errorText(error)),
): {
  rows: Ref<T[]>
  total: Ref<number>
  page: Ref<number>
  pageSize: Ref<number>
  loading: Ref<boolean>
  load: () => Promise<void>
  search: () => Promise<void>
} {
  const rows = shallowRef<T[]>([])
  const total = ref(0)
  const page = ref(1)
  const size = ref(pageSize)
  const loading = ref(false)
  let seq = 0

  async function load(): Promise<void> {
    const mine = ++seq
    loading.value = true
    try {
      const result = await fetchPage(page.value, size.value)
      if (mine !== seq) return
      rows.value = result.items
      total.value = result.total
    } catch (error) {
      if (mine === seq) onError(error)
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  function search(): Promise<void> {
    page.value = 1
    return load()
  }

  return { rows, total, page, pageSize: size, loading, load, search }
}
