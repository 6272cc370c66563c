// `npm run build`: compiles src/ to dist/ with tsc (tsconfig.build.json keeps the module layout) and
// then writes dist/.build-stamp holding the time the build started. bin/tandem.js runs dist/ only when
// no compiled source changed after that time; the stamp is removed first so a failed or half-finished
// build is never taken for a fresh one.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const stamp = new URL('../dist/.build-stamp', import.meta.url)
const started = Date.now()
rmSync(stamp, { force: true })
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
writeFileSync(stamp, `${started}\n`)
