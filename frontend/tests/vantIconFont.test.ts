import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { withoutRemoteFontSources } from '../build/vantIconFont'

describe('Vant icon font', () => {
  it('keeps the embedded WOFF2 and drops the CDN fallback', () => {
    const css = '@font-face{font-family:x;src:url(data:font/woff2;charset=utf-8;base64,AA,BB) format("woff2"),url(//cdn.example/x.woff?t=1) format("woff")}.a{color:red}'
    expect(withoutRemoteFontSources(css)).toBe(
      '@font-face{font-family:x;src:url(data:font/woff2;charset=utf-8;base64,AA,BB) format("woff2")}.a{color:red}',
    )
  })

  it('leaves no remote URL in the stylesheet Vant ships', () => {
    const require = createRequire(import.meta.url)
    const css = readFileSync(require.resolve('vant/lib/index.css'), 'utf8')
    expect(css).toMatch(/at\.alicdn\.com/) // what this guards against (fails when Vant stops doing it)
    const fixed = withoutRemoteFontSources(css)
    expect(fixed).not.toMatch(/url\(\s*["']?(https?:)?\/\//)
    expect(fixed).toMatch(/font-family:vant-icon;[^}]*src:url\(data:font\/woff2/)
    expect(fixed.length).toBeGreaterThan(css.length - 200)
  })
})
