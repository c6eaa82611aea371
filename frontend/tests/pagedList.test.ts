import { describe, expect, it, vi } from 'vitest'
import { usePagedList } from '@/modules/registry/common/usePagedList'

/** A fetch whose answers the test settles by hand, in any order. */
function controlled() {
  const calls: { page: number; size: number; resolve: (v: { items: string[]; total: number }) => void; reject: (e: unknown) => void }[] = []
  const fetch = (page: number, size: number) =>
    new Promise<{ items: string[]; total: number }>((resolve, reject) => calls.push({ page, size, resolve, reject }))
  return { calls, fetch }
}

describe('a paged list', () => {
  it('keeps only the latest answer and goes back to the first page on a new search', async () => {
    const { calls, fetch } = controlled()
    const list = usePagedList(fetch, 50, vi.fn())
    list.page.value = 3
    const first = list.load()
    const second = list.search()
    expect(calls.map((c) => [c.page, c.size])).toEqual([
      [3, 50],
      [1, 50],
    ])
    calls[1]!.resolve({ items: ['new'], total: 1 })
    calls[0]!.resolve({ items: ['old'], total: 9 })
    await Promise.all([first, second])
    expect(list.rows.value).toEqual(['new'])
    expect(list.total.value).toBe(1)
    expect(list.loading.value).toBe(false)
  })

  it('hands the latest failure to the page, and not a stale one', async () => {
    const { calls, fetch } = controlled()
    const onError = vi.fn()
    const list = usePagedList(fetch, 20, onError)
    const stale = list.load()
    const latest = list.load()
    calls[0]!.reject(new Error('stale'))
    calls[1]!.reject(new Error('latest'))
    await Promise.all([stale, latest])
    expect(onError).toHaveBeenCalledOnce()
    expect(onError).toHaveBeenCalledWith(new Error('latest'))
  })
})
