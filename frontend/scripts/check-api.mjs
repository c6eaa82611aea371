// Fails when src/api/schema.d.ts is not what `npm run gen:api` would produce from openapi.json.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dir = mkdtempSync(join(tmpdir(), 'civicgrid-api-'))
const fresh = join(dir, 'schema.d.ts')
try {
  execFileSync(join('node_modules', '.bin', 'openapi-typescript'), ['openapi.json', '-o', fresh], { stdio: 'pipe' })
  if (readFileSync(fresh, 'utf8') !== readFileSync('src/api/schema.d.ts', 'utf8')) {
    console.error('src/api/schema.d.ts is stale: run `npm run gen:api` (or `make openapi`) and commit the result.')
    process.exit(1)
  }
  console.log('src/api/schema.d.ts matches openapi.json')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
