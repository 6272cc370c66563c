// `npm run build` (also `prepare`, so run by `npm install`/`npm ci` in a checkout and by `npm pack`):
// compiles src/ with tsc (tsconfig.build.json keeps the module layout and writes .d.ts), builds the
// dashboard into dashboard/ beside it and writes .build-stamp holding the time the build started, all in
// a fresh directory that then replaces dist/. So dist/ never holds files of deleted sources (it is what
// the package ships), and a process running from it never reads a half-written build. bin/tandem.js
// runs dist/ only when no compiled source changed after the stamp.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildDashboard } from './dashboard-build.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = join(root, 'dist')
const tag = `${process.pid}-${Date.now().toString(36)}`
const next = `${dist}.next-${tag}`
const old = `${dist}.old-${tag}`
const started = Date.now()
try {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', next], { cwd: root, stdio: 'inherit' })
  await buildDashboard(join(next, 'dashboard'))
  // tsc keeps the shebang of src/cli/bin.ts but not an executable mode; npx runs it in a checkout too.
  chmodSync(join(next, 'cli', 'bin.js'), 0o755)
  writeFileSync(join(next, '.build-stamp'), `${started}\n`)
  if (existsSync(dist)) renameSync(dist, old)
  renameSync(next, dist)
} finally {
  rmSync(next, { recursive: true, force: true })
  rmSync(old, { recursive: true, force: true })
}
