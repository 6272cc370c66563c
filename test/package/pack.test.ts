// The package as users get it (SPEC 10): `npm pack` of this checkout (which runs `prepare`, the build),
// installed into an empty project, then used from there as a user would: the `tandem` command (help,
// init, validate, demo, up with its dashboard), the library from plain Node.js ESM and a strict
// TypeScript consumer against the shipped .d.ts. Nothing from devDependencies may be loaded: the tarball
// is scanned, and the commands run with a module hook that records every import.
// One install per run: better-sqlite3 compiles from source when no prebuilt binary is available (a
// minute or several on a busy machine), so the setup has a generous timeout.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { builtinModules, createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { distIsFresh } from '../../bin/build-state.js'
import { ROOT, runProcess, type CliRun } from '../support/cli.js'

const SETUP_TIMEOUT_MS = 30 * 60_000
const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
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

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)))
  }
  return out.sort()
}

/** The package name a bare import specifier names (`@scope/x/y` -> `@scope/x`), or null for others. */
function packageOf(specifier: string): string | null {
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
const BUILTINS = new Set(builtinModules)
const DEV_ONLY = Object.keys(manifest.devDependencies).filter((name) => !(name in manifest.dependencies))

let work: string
let tarball: string
let packed: { size: number; unpackedSize: number; files: Array<{ path: string }> }
let app: string
let installed: string
let loadLog: string
/** With NODE_OPTIONS: every module a `tandem` process (and its children) resolves goes to loadLog. */
let hookEnv: NodeJS.ProcessEnv

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tandem-pack-'))
  const packDir = join(work, 'pack')
  await mkdir(packDir)
  // `npm pack` runs `prepare` (the build) first; its output shares stdout with the JSON, which comes last.
  // When dist/ is already fresh (after `npm ci`, as in CI) the build is skipped: rebuilding swaps dist/
  // under the other test files, whose `tandem` processes run from it.
  const packStarted = Date.now()
  const packArgs = ['pack', '--json', '--pack-destination', packDir, ...(distIsFresh() ? ['--ignore-scripts'] : [])]
  const pack = await runOk('npm', packArgs, ROOT, BUILD_ENV)
  const packSeconds = (Date.now() - packStarted) / 1000
  const parsed = JSON.parse(pack.stdout.slice(pack.stdout.search(/^\[/m))) as Array<
    typeof packed & { filename: string }
  >
  packed = parsed[0]!
  tarball = join(packDir, parsed[0]!.filename)

  app = join(work, 'app')
  await mkdir(app)
  await writeFile(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
  )
  const installStarted = Date.now()
  await runOk(
    'npm',
    ['install', '--no-audit', '--no-fund', tarball, `typescript@${TYPESCRIPT}`, `@types/node@${TYPES_NODE}`],
    app,
  )
  // For the record (docs, reviews), not asserted: how long building, packing and installing took here.
  console.log(
    `npm pack (with the build) ${packSeconds.toFixed(0)} s; npm install of the tarball ${((Date.now() - installStarted) / 1000).toFixed(0)} s`,
  )
  installed = join(app, 'node_modules', manifest.name)

  loadLog = join(work, 'loads.log')
  await writeFile(
    join(work, 'load-hooks.mjs'),
    `import { appendFileSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  appendFileSync(${JSON.stringify(loadLog)}, JSON.stringify({ specifier, parent: context.parentURL ?? null }) + '\\n')
  return next(specifier, context)
}
`,
  )
  await writeFile(
    join(work, 'record-loads.mjs'),
    `import { register } from 'node:module'\nregister(${JSON.stringify(pathToFileURL(join(work, 'load-hooks.mjs')).href)})\n`,
  )
  hookEnv = { NODE_OPTIONS: `--import=${pathToFileURL(join(work, 'record-loads.mjs')).href}` }
}, SETUP_TIMEOUT_MS)

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true })
})

/** The recorded imports made from inside the installed project (not by npm's own code). */
async function recordedLoads(): Promise<Array<{ specifier: string; parent: string | null }>> {
  const text = await readFile(loadLog, 'utf8').catch(() => '')
  const inApp = pathToFileURL(app).href
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { specifier: string; parent: string | null })
    .filter((l) => l.parent?.startsWith(inApp) === true || l.specifier.startsWith(inApp))
}

async function expectNoDevDependencyLoaded(): Promise<void> {
  const loads = await recordedLoads()
  // The hook did record what the package loads (or this check would pass on nothing).
  expect(loads.some((l) => l.parent?.startsWith(pathToFileURL(installed).href) && l.specifier === 'commander')).toBe(
    true,
  )
  expect(loads.filter((l) => DEV_ONLY.includes(packageOf(l.specifier) ?? ''))).toEqual([])
}

describe('the tarball', () => {
  it('holds the build, its declarations, the dashboard and the schema, and no sources, tests or benchmarks', () => {
    const files = packed.files.map((f) => f.path)
    for (const f of [
      'package.json',
      'README.md',
      'tandem.schema.json',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/bin.js',
      'dist/dashboard/index.html',
    ]) {
      expect(files).toContain(f)
    }
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([])
    expect(
      files.filter(
        (f) =>
          /^(src|test|bench|scripts|examples|bin|docs)\//.test(f) ||
          /(^|\/)(fixtures?|__tests__)\//.test(f) ||
          /\.(test|bench)\./.test(f),
      ),
    ).toEqual([])
    expect(files.filter((f) => f.endsWith('.map') || f.includes('.build-'))).toEqual([])
    // Every compiled module has its declaration.
    const js = files.filter((f) => f.startsWith('dist/') && !f.startsWith('dist/dashboard/') && f.endsWith('.js'))
    expect(js.filter((f) => !files.includes(f.replace(/\.js$/, '.d.ts')))).toEqual([])
    console.log(`tarball ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${files.length} files`)
  })

  it(
    'imports nothing at run time that is not a dependency or a Node.js built-in',
    { timeout: 5 * 60_000 },
    async () => {
      // What Node.js runs: not the dashboard (a browser bundle) nor the package's own dependencies.
      const files = (await listFiles(installed)).filter(
        (f) => f.endsWith('.js') && !f.startsWith('dist/dashboard/') && !f.includes('node_modules'),
      )
      expect(files.length).toBeGreaterThan(50)
      const bad: string[] = []
      const seen = new Set<string>()
      for (const file of files) {
        const text = await readFile(join(installed, file), 'utf8')
        // Static imports and re-exports (statements at the start of a line), side-effect imports, dynamic
        // import() and require() with a literal specifier.
        const specifiers =
          /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*(['"])([^'"\n]+)\1|^\s*import\s*(['"])([^'"\n]+)\3|\b(?:import|require)\s*\(\s*(['"])([^'"\n]+)\5/gm
        for (const m of text.matchAll(specifiers)) {
          const specifier = m[2] ?? m[4] ?? m[6]!
          const name = packageOf(specifier)
          if (name === null) continue
          seen.add(name)
          if (!BUILTINS.has(name) && !(name in manifest.dependencies)) bad.push(`${file}: ${specifier}`)
        }
        if (/\b(tsx|vite)\b/.test(text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')))
          bad.push(`${file} names tsx or vite outside a comment`)
      }
      expect(bad).toEqual([])
      expect(seen.has('fastify')).toBe(true)
      // Neither is installed with the package, so an import of one would fail rather than work by chance.
      for (const dev of ['tsx', 'vite', 'vitest']) await expect(stat(join(app, 'node_modules', dev))).rejects.toThrow()
    },
  )
})

describe('installed into an empty project', () => {
  it('runs `npx tandem --help`, `tandem init` and `tandem validate`', { timeout: 5 * 60_000 }, async () => {
    const help = await runProcess('npx', ['--no', '--', 'tandem', '--help'], app)
    expect(help.code, help.stderr).toBe(0)
    for (const verb of ['init', 'validate', 'up', 'demo', 'status', 'data', 'events'])
      expect(help.stdout).toContain(verb)

    const dir = join(work, 'config')
    await mkdir(dir)
    const init = await runProcess('npx', ['--no', '--', 'tandem', 'init', '-c', join(dir, 'tandem.yaml')], app, hookEnv)
    expect(init.code, init.stderr).toBe(0)
    const schema = JSON.parse(await readFile(join(dir, 'tandem.schema.json'), 'utf8')) as { $id: string }
    expect(schema).toEqual(JSON.parse(await readFile(join(installed, 'tandem.schema.json'), 'utf8')))
    const valid = await runProcess(
      'npx',
      ['--no', '--', 'tandem', 'validate', '-c', join(dir, 'tandem.yaml'), '--json'],
      app,
      hookEnv,
    )
    expect(valid.code, valid.stderr).toBe(0)
    expect(JSON.parse(valid.stdout)).toMatchObject({ valid: true })

    await writeFile(
      join(dir, 'broken.yaml'),
      'version: 1\nsystems:\n  - name: a\n    legacy: { url: 42 }\n    surprise: true\n',
    )
    const broken = await runProcess(
      'npx',
      ['--no', '--', 'tandem', 'validate', '-c', join(dir, 'broken.yaml')],
      app,
      hookEnv,
    )
    expect(broken.code).toBe(2)
    expect(broken.stderr).toMatch(/TANDEM_ERR_[A-Z_]+/)
    await expectNoDevDependencyLoaded()
  })

  it('runs `npx tandem demo` to the promotion without writing into the package', { timeout: 10 * 60_000 }, async () => {
    const before = await snapshot(installed)
    const dir = join(work, 'demo')
    const demo = await runProcess('npx', ['--no', '--', 'tandem', 'demo', '--json', '--dir', dir], app, hookEnv)
    expect(demo.code, demo.stderr.slice(-3000)).toBe(0)
    const result = JSON.parse(demo.stdout) as {
      ok: boolean
      finalStage: string
      failureReport: string
      decisions: Array<{ action: string }>
    }
    expect(result).toMatchObject({ ok: true, finalStage: 'promoted' })
    const actions = result.decisions.map((d) => d.action).filter((a) => a !== 'hold')
    expect(actions).toContain('rollback')
    expect(actions.at(-1)).toBe('promote')
    expect(JSON.parse(await readFile(result.failureReport, 'utf8'))).toMatchObject({ system: 'todo-api' })
    for (const text of ['FAULT INJECTED', 'ROLLBACK by controller', 'PROMOTED']) expect(demo.stderr).toContain(text)
    expect(await snapshot(installed)).toEqual(before)
    await expectNoDevDependencyLoaded()
  })

  it('serves the prebuilt dashboard from `tandem up`', { timeout: 5 * 60_000 }, async () => {
    const before = await snapshot(installed)
    const dir = join(work, 'up')
    await mkdir(dir)
    const config = join(dir, 'tandem.yaml')
    await writeFile(
      config,
      `version: 1
store: sqlite:${join(dir, 'tandem.db')}
gateway: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
systems:
  - name: orders
    legacy: { url: http://127.0.0.1:9 }
    candidate: { url: http://127.0.0.1:9 }
    routes: [{ path: /** }]
`,
    )
    const child = spawn(join(app, 'node_modules', '.bin', 'tandem'), ['up', '-c', config, '--json'], {
      cwd: app,
      env: { ...process.env, ...hookEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      let out = ''
      let log = ''
      child.stderr.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)))
      const summary = await new Promise<{ admin: string }>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString()
          try {
            resolve(JSON.parse(out) as { admin: string })
          } catch {
            // not complete yet
          }
        })
        child.once('exit', (code) => reject(new Error(`tandem up exited with ${code}: ${log}`)))
      })
      const page = await fetch(`${summary.admin}/`)
      expect(page.status).toBe(200)
      const html = await page.text()
      expect(html).toBe(await readFile(join(installed, 'dist', 'dashboard', 'index.html'), 'utf8'))
      const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)
      expect(script).not.toBeNull()
      const asset = await fetch(`${summary.admin}/${script![1]}`)
      expect(asset.status).toBe(200)
      expect(await asset.text()).toBe(await readFile(join(installed, 'dist', 'dashboard', script![1]!), 'utf8'))
    } finally {
      if (child.exitCode === null) {
        const exited = once(child, 'exit')
        child.kill('SIGTERM')
        await exited
      }
    }
    expect(await snapshot(installed)).toEqual(before)
    await expectNoDevDependencyLoaded()
  })

  it('imports the library from plain Node.js ESM', { timeout: 5 * 60_000 }, async () => {
    await writeFile(
      join(app, 'use.mjs'),
      `import { experiment, dualWrite, shadowRead, dualPublish, TandemError } from 'tandem'
const published = []
const value = await experiment('plain-node', { publish: (r) => published.push(r) })
  .use(() => ({ total: 3 }))
  .try(() => ({ total: 4 }))
  .run()
await new Promise((r) => setTimeout(r, 100))
console.log(JSON.stringify({
  value,
  mismatched: published[0]?.mismatched,
  kinds: [dualWrite, shadowRead, dualPublish].map((f) => typeof f),
  error: typeof TandemError,
}))
`,
    )
    const r = await runProcess(process.execPath, ['use.mjs'], app, hookEnv)
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      value: { total: 3 },
      mismatched: true,
      kinds: ['function', 'function', 'function'],
      error: 'function',
    })
    const loads = await recordedLoads()
    expect(loads.filter((l) => DEV_ONLY.includes(packageOf(l.specifier) ?? ''))).toEqual([])
  })

  it(
    'type-checks a strict TypeScript consumer (nodenext) against the shipped declarations',
    { timeout: 5 * 60_000 },
    async () => {
      await writeFile(
        join(app, 'tsconfig.json'),
        `${JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['consumer.ts'] }, null, 2)}\n`,
      )
      await writeFile(
        join(app, 'consumer.ts'),
        `import { experiment, dualWrite, shadowRead, dualPublish, TandemError, type ExperimentResult, type DualWriteOptions, type ShadowReadOptions, type DualPublisher } from 'tandem'

const total: Promise<number> = experiment<number>('typed', { publish: (r: ExperimentResult<number>) => void r.matched })
  .use(() => 1)
  .try(() => 2)
  .run()
const writeOptions: DualWriteOptions<[id: number]> = { log: 'dual-write.jsonl' }
const write = dualWrite(async (id: number) => \`old \${id}\`, async (id: number) => id, writeOptions)
const written: Promise<string> = write(1)
const readOptions: ShadowReadOptions<[id: number], string> = { normalize: (v) => v }
const read = shadowRead(async (id: number) => \`old \${id}\`, async (id: number) => \`new \${id}\`, readOptions)
const mismatches: number = read.stats.mismatches
const publish: typeof dualPublish = dualPublish
let publisher: DualPublisher | undefined
const err: Error = new TandemError('TANDEM_ERR_CONFIG_EXISTS', { file: 'x' })
// The declarations are real types, not \`any\`: these must be errors.
// @ts-expect-error a number is not an experiment name
experiment(42)
// @ts-expect-error the writer takes the old write's arguments
void write('one')
// @ts-expect-error an unknown error code
new TandemError('TANDEM_ERR_NOT_A_CODE', {})
export { total, written, mismatches, publish, publisher, err }
`,
      )
      const r = await runProcess(
        process.execPath,
        [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
        app,
      )
      expect(r.code, r.stdout + r.stderr).toBe(0)
    },
  )
})

/** Every file of `dir` with its size and modification time. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const f of await listFiles(dir)) {
    const s = await stat(join(dir, f))
    out[f] = `${s.size}:${s.mtimeMs}`
  }
  return out
}
