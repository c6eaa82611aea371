/** The rows of the big screen's rankings: the first six, each bar scaled to the largest of them. */
import { shortName } from './drill'
import type { RankRow } from './RankingList.vue'

/** How many rows a ranking panel shows (what fits the wall without scrolling). */
export const RANK_ROWS = 6

export interface RankOf<T> {
  value: (item: T) => number
  text: (item: T) => string
  key: (item: T) => string
  name: (item: T) => string
  colour?: string
}

export function scaledRows<T>(items: readonly T[], of: RankOf<T>): RankRow[] {
  const top = items.slice(0, RANK_ROWS)
  const max = Math.max(1e-9, ...top.map(of.value))
  return top.map((item) => ({ key: of.key(item), name: shortName(of.name(item)), share: of.value(item) / max, value: of.text(item), colour: of.colour }))
}
