import { afterEach, describe, expect, it, vi } from 'vitest'
import { filenameFrom, saveBlob } from '@/lib/download'

describe('downloads', () => {
  afterEach(() => vi.restoreAllMocks())

  it('reads the file name of Content-Disposition', () => {
    expect(filenameFrom('attachment; filename="people-20260101.csv"', 'x')).toBe('people-20260101.csv')
    expect(filenameFrom('attachment; filename=houses.xlsx', 'x')).toBe('houses.xlsx')
    expect(filenameFrom("attachment; filename=a.csv; filename*=UTF-8''%E4%BA%BA%E5%8F%A3.csv", 'x')).toBe('人口.csv')
    expect(filenameFrom('attachment; filename="../../etc/passwd"', 'x')).toBe('passwd')
    expect(filenameFrom(null, 'fallback.csv')).toBe('fallback.csv')
    expect(filenameFrom('attachment', 'fallback.csv')).toBe('fallback.csv')
  })

  it('clicks a temporary link to an object URL', () => {
    const create = vi.fn(() => 'blob:test')
    Object.assign(URL, { createObjectURL: create, revokeObjectURL: vi.fn() })
    const clicked: HTMLAnchorElement[] = []
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this)
    })
    saveBlob(new Blob(['a,b\n']), 'report.csv')
    expect(create).toHaveBeenCalledOnce()
    expect(clicked).toHaveLength(1)
    expect(clicked[0]!.download).toBe('report.csv')
    expect(clicked[0]!.getAttribute('href')).toBe('blob:test')
    expect(document.querySelectorAll('a[download]')).toHaveLength(0)
  })
})
