/**
 * Vant's stylesheet declares its icon font as an embedded WOFF2 (a data: URL) with a fallback on a CDN
 * (`//at.alicdn.com/…woff`). The server's Content-Security-Policy allows fonts from 'self' and data: only,
 * so the fallback can only ever produce a blocked request and a console error. This Vite plugin drops the
 * remote source from every @font-face of Vant's CSS, keeping the embedded font.
 */
import type { Plugin } from 'vite'

/** `@font-face { src: url(data:…) format("woff2"), url(//cdn/…) format("woff") }` → only the data: source. */
export function withoutRemoteFontSources(css: string): string {
  let out = ''
  let from = 0
  for (const face of css.matchAll(/@font-face\s*\{/g)) {
    const start = face.index + face[0].length
    const src = /(^|[;{\s])src\s*:/g
    src.lastIndex = start
    const found = src.exec(css)
    if (!found || found.index < from) continue
    const valueStart = found.index + found[0].length
    const valueEnd = endOfValue(css, valueStart)
    if (css.slice(start, found.index).includes('}')) continue // that src belongs to a later rule
    const kept = splitSources(css.slice(valueStart, valueEnd)).filter((s) => /^url\(\s*["']?data:/.test(s))
    out += css.slice(from, valueStart) + kept.join(',')
    from = valueEnd
  }
  return out + css.slice(from)
}

/** Where a declaration's value ends: the first `;` or `}` outside parentheses and quotes. */
function endOfValue(css: string, start: number): number {
  let depth = 0
  let quote: string | null = null
  for (let i = start; i < css.length; i++) {
    const c = css[i]
    if (quote) {
      if (c === quote) quote = null
    } else if (c === '"' || c === "'") quote = c
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if ((c === ';' || c === '}') && depth === 0) return i
  }
  return css.length
}

/** Split a `src` list at top-level commas (data: URLs contain commas and semicolons inside their parentheses). */
function splitSources(list: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < list.length; i++) {
    const c = list[i]
    if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === ',' && depth === 0) {
      parts.push(list.slice(start, i).trim())
      start = i + 1
    }
  }
  parts.push(list.slice(start).trim())
  return parts.filter(Boolean)
}

export function vantEmbeddedIconFont(): Plugin {
  return {
    name: 'civicgrid:vant-embedded-icon-font',
    enforce: 'pre',
    transform(code, id) {
      if (!/[\\/]node_modules[\\/]vant[\\/].*\.css(\?|$)/.test(id) || !code.includes('@font-face')) return null
      return { code: withoutRemoteFontSources(code), map: null }
    },
  }
}
