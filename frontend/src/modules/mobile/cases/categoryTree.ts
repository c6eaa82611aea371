/** The two-level category table as a cascader's options (classes with their active categories). */
import type { Category } from './types'

export interface CategoryOption {
  text: string
  value: string
  children?: CategoryOption[]
}

export function categoryOptions(categories: readonly Category[], locale: string): CategoryOption[] {
  const name = (c: Category) => (locale === 'en' ? c.name_en : c.name_zh)
  return categories
    .filter((c) => c.depth === 1 && c.active)
    .map((parent) => ({
      text: name(parent),
      value: parent.code,
      children: categories.filter((c) => c.parent_code === parent.code && c.active).map((c) => ({ text: name(c), value: c.code })),
    }))
    .filter((o) => o.children.length > 0)
}

/** "市容环境 / 占道经营" for a leaf category code. */
export function categoryPath(categories: readonly Category[], code: string | null, locale: string): string {
  if (!code) return ''
  const leaf = categories.find((c) => c.code === code)
  if (!leaf) return code
  const parent = categories.find((c) => c.code === leaf.parent_code)
  const name = (c: Category) => (locale === 'en' ? c.name_en : c.name_zh)
  return parent ? `${name(parent)} / ${name(leaf)}` : name(leaf)
}
