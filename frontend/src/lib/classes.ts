/**
 * Colour classes for a choropleth: quantile breaks over the values on screen, rounded to two significant
 * digits so the legend reads well. Quantiles adapt to any city size (a small demo city and a real one get
 * the same spread of colours).
 */

export const PALETTE: readonly string[] = ['#eef5fc', '#cfe3f4', '#9cc7e4', '#5fa2d1', '#2f78b7', '#0f4c8f']

/** Round down to two significant digits (0 stays 0), so the value itself falls in the class it starts. */
export function roundNice(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0
  const magnitude = 10 ** (Math.floor(Math.log10(value)) - 1)
  return Math.floor(value / magnitude + 1e-9) * magnitude
}

/**
 * Lower bounds of up to `classes` classes; the first is always 0. Duplicate bounds (many equal values)
 * are merged, so fewer classes come back for uniform data.
 */
export function quantileBreaks(values: readonly number[], classes: number = PALETTE.length): number[] {
  const sorted = values.filter((v) => Number.isFinite(v) && v >= 0).sort((a, b) => a - b)
  const breaks = [0]
  // No spread to show (nothing, or one value everywhere): one class.
  if (sorted.length === 0 || sorted[0] === sorted[sorted.length - 1]) return breaks
  for (let i = 1; i < classes; i++) {
    const at = sorted[Math.min(sorted.length - 1, Math.floor((i * sorted.length) / classes))] as number
    const bound = roundNice(at)
    if (bound > (breaks[breaks.length - 1] as number)) breaks.push(bound)
  }
  return breaks
}

/** A MapLibre `step` expression colouring `property` by the breaks (a plain colour for a single class). */
export function stepExpression(
  property: string,
  breaks: readonly number[],
  palette: readonly string[] = PALETTE,
): unknown[] | string {
  const colours = spread(breaks.length, palette)
  if (breaks.length <= 1) return colours[0] as string
  const expression: unknown[] = ['step', ['coalesce', ['get', property], 0], colours[0]]
  for (let i = 1; i < breaks.length; i++) expression.push(breaks[i], colours[i])
  return expression
}

/** `n` colours taken evenly from the palette (all of it when n equals its length). */
export function spread(n: number, palette: readonly string[] = PALETTE): string[] {
  if (n <= 1) return [palette[Math.floor(palette.length / 2)] as string]
  return Array.from({ length: n }, (_, i) => palette[Math.round((i * (palette.length - 1)) / (n - 1))] as string)
}
