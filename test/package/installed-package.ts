// The one `npm pack` + install of this checkout that the package tests share (SPEC 10): the tarball in an
// empty project, a module hook that records every import, and helpers to judge what was loaded.
// One install per run: better-sqlite3 compiles from source when no prebuilt binary is available (a
// minute or several on a busy machine), so the setup has a generous timeout.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { builtinModules, createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, expect } from 'vitest'
import { distIsFresh } from '../../bin/build-state.js'
import { ROOT, runProcess, type CliRun } from '../support/cli.js'

export const SETUP_TIMEOUT_MS = 30 * 60_000
export const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
  name: string
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}
const require = createRequire(join(ROOT, 'package.json'))
/** The consumer's own tools, at the versions this checkout uses (so the npm cache can serve them). */
const TYPESCRIPT = (require('typescript/package.json') as { version: string }).version
const TYPES_NODE = (require('@types/node/package.json') as { version: string }).version

async function runOk(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<CliRun> {
  const r = await runProcess(command, args, cwd, env)
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${r.code}\n${r.stdout}\n${r.stderr}`)
  return r
}

export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)))
  }
  return out.sort()
}

/** The package name a bare import specifier names (`@scope/x/y` -> `@scope/x`), or null for others. */
export function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || /^[a-z]+:/.test(specifier)) return null
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
}

/** The build (Vite among it) runs as from a shell, not with the test runner's mode. */
const BUILD_ENV: NodeJS.ProcessEnv = {
  NODE_ENV: undefined,
  VITEST: undefined,
  VITEST_MODE: undefined,
  VITEST_POOL_ID: undefined,
  VITEST_WORKER_ID: undefined,
}
export const BUILTINS = new Set(builtinModules)
export const DEV_ONLY = Object.keys(manifest.devDependencies).filter((name) => !(name in manifest.dependencies))

/** Where the packed tarball was installed, filled in by the setup of `usePackedInstall`. */
export interface PackedInstall {
  work: string
  tarball: string
  packed: { size: number; unpackedSize: number; files: Array<{ path: string }> }
  app: string
  installed: string
  loadLog: string
  /** With NODE_OPTIONS: every module a `tandem` process (and its children) resolves goes to loadLog. */
  hookEnv: NodeJS.ProcessEnv
}

/** Packs and installs once for the calling test file; the returned object is filled in before its tests. */
export function usePackedInstall(): PackedInstall {
  const p = {} as PackedInstall
  beforeAll(async () => {
    p.work = await mkdtemp(join(tmpdir(), 'tandem-pack-'))
    const packDir = join(p.work, 'pack')
    await mkdir(packDir)
    // `npm pack` runs `prepare` (the build) first; its output shares stdout with the JSON, which comes last.
    // When dist/ is already fresh (after `npm ci`, as in CI) the build is skipped: rebuilding swaps dist/
    // under the other test files, whose `tandem` processes run from it.
    const packStarted = Date.now()
    const packArgs = ['pack', '--json', '--pack-destination', packDir, ...(distIsFresh() ? ['--ignore-scripts'] : [])]
    const pack = await runOk('npm', packArgs, ROOT, BUILD_ENV)
    const packSeconds = (Date.now() - packStarted) / 1000
    const parsed = JSON.parse(pack.stdout.slice(pack.stdout.search(/^\[/m))) as Array<
      PackedInstall['packed'] & { filename: string }
    >
    p.packed = parsed[0]!
    p.tarball = join(packDir, parsed[0]!.filename)

    p.app = join(p.work, 'app')
    await mkdir(p.app)
    await writeFile(
      join(p.app, 'package.json'),
      `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
    )
    const installStarted = Date.now()
    await runOk(
      'npm',
      ['install', '--no-audit', '--no-fund', p.tarball, `typescript@${TYPESCRIPT}`, `@types/node@${TYPES_NODE}`],
      p.app,
    )
    // For the record (docs, reviews), not asserted: how long building, packing and installing took here.
    console.log(
      `npm pack (with the build) ${packSeconds.toFixed(0)} s; ` +
        `npm install of the tarball ${((Date.now() - installStarted) / 1000).toFixed(0)} s`,
    )
    p.installed = join(p.app, 'node_modules', manifest.name)

    p.loadLog = join(p.work, 'loads.log')
    await writeFile(
      join(p.work, 'load-hooks.mjs'),
      `import { appendFileSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  appendFileSync(${JSON.stringify(p.loadLog)}, \
JSON.stringify({ specifier, parent: context.parentURL ?? null }) + '\\n')
  return next(specifier, context)
}
`,
    )
    await writeFile(
      join(p.work, 'record-loads.mjs'),
      `import { register } from 'node:module'\n` +
        `register(${JSON.stringify(pathToFileURL(join(p.work, 'load-hooks.mjs')).href)})\n`,
    )
    p.hookEnv = { NODE_OPTIONS: `--import=${pathToFileURL(join(p.work, 'record-loads.mjs')).href}` }
  }, SETUP_TIMEOUT_MS)

  afterAll(async () => {
    if (p.work !== undefined) await rm(p.work, { recursive: true, force: true })
  })
  return p
}

/** The recorded imports made from inside the installed project (not by npm's own code). */
export async function recordedLoads(p: PackedInstall): Promise<Array<{ specifier: string; parent: string | null }>> {
  const text = await readFile(p.loadLog, 'utf8').catch(() => '')
  const inApp = pathToFileURL(p.app).href
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { specifier: string; parent: string | null })
    .filter((l) => l.parent?.startsWith(inApp) === true || l.specifier.startsWith(inApp))
}

export async function expectNoDevDependencyLoaded(p: PackedInstall): Promise<void> {
  const loads = await recordedLoads(p)
  // The hook did record what the package loads (or this check would pass on nothing).
  expect(loads.some((l) => l.parent?.startsWith(pathToFileURL(p.installed).href) && l.specifier === 'commander')).toBe(
    true,
  )
  expect(loads.filter((l) => DEV_ONLY.includes(packageOf(l.specifier) ?? ''))).toEqual([])
}

/** Every file of `dir` with its size and modification time. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const f of await listFiles(dir)) {
    const s = await stat(join(dir, f))
    out[f] = `${s.size}:${s.mtimeMs}`
  }
  return out
}
