/** Greedy label placement: keep labels in the given order (most important first) unless they collide. */

export interface LabelBox {
  code: string
  /** centre in screen pixels */
  x: number
  y: number
  width: number
  height: number
}

/** Estimated box of a label: CJK characters are about 1 em wide, Latin about 0.6 em. */
export function labelSize(text: string, fontSize: number): { width: number; height: number } {
  let width = 0
  for (const ch of text) width += /[\u2e80-\u9fff\uff00-\uffef]/.test(ch) ? fontSize : fontSize * 0.6
  return { width: width + 4, height: fontSize + 4 }
}

export function placeLabels(candidates: readonly LabelBox[], limit = Infinity): string[] {
  const placed: LabelBox[] = []
  for (const c of candidates) {
    if (placed.length >= limit) break
    const hit = placed.some(
      (p) => Math.abs(p.x - c.x) * 2 < p.width + c.width && Math.abs(p.y - c.y) * 2 < p.height + c.height,
    )
    if (!hit) placed.push(c)
  }
  return placed.map((p) => p.code)
}
