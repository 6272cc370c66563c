// The `tandem` command and the library as a user gets them from the installed tarball (SPEC 10): help, init,
// validate, demo, up with its dashboard, plain Node.js ESM and a strict TypeScript consumer. Registered by
// pack.test.ts, so the one install of installed-package.ts serves them too.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runProcess } from '../support/cli.js'
import {
  DEV_ONLY,
  expectNoDevDependencyLoaded,
  packageOf,
  recordedLoads,
  snapshot,
  type PackedInstall,
} from './installed-package.js'

/** The tests of the installed project, against the install `p` of the calling test file. */
export function describeInstalledProject(p: PackedInstall): void {
  describe('installed into an empty project', () => {
    it('runs `npx tandem --help`, `tandem init` and `tandem validate`', { timeout: 5 * 60_000 }, async () => {
      const help = await runProcess('npx', ['--no', '--', 'tandem', '--help'], p.app)
      expect(help.code, help.stderr).toBe(0)
      for (const verb of ['init', 'validate', 'up', 'demo', 'status', 'data', 'events'])
        expect(help.stdout).toContain(verb)

      const dir = join(p.work, 'config')
      await mkdir(dir)
      const init = await runProcess(
        'npx',
        ['--no', '--', 'tandem', 'init', '-c', join(dir, 'tandem.yaml')],
        p.app,
        p.hookEnv,
      )
      expect(init.code, init.stderr).toBe(0)
      const schema = JSON.parse(await readFile(join(dir, 'tandem.schema.json'), 'utf8')) as { $id: string }
      expect(schema).toEqual(JSON.parse(await readFile(join(p.installed, 'tandem.schema.json'), 'utf8')))
      const valid = await runProcess(
        'npx',
        ['--no', '--', 'tandem', 'validate', '-c', join(dir, 'tandem.yaml'), '--json'],
        p.app,
        p.hookEnv,
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
        p.app,
        p.hookEnv,
      )
      expect(broken.code).toBe(2)
      expect(broken.stderr).toMatch(/TANDEM_ERR_[A-Z_]+/)
      await expectNoDevDependencyLoaded(p)
    })

    it(
      'runs `npx tandem demo` to the promotion without writing into the package',
      { timeout: 10 * 60_000 },
      async () => {
        const before = await snapshot(p.installed)
        const dir = join(p.work, 'demo')
        const demo = await runProcess('npx', ['--no', '--', 'tandem', 'demo', '--json', '--dir', dir], p.app, p.hookEnv)
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
        expect(await snapshot(p.installed)).toEqual(before)
        await expectNoDevDependencyLoaded(p)
      },
    )

    it('serves the prebuilt dashboard from `tandem up`', { timeout: 5 * 60_000 }, async () => {
      const before = await snapshot(p.installed)
      const dir = join(p.work, 'up')
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
      const child = spawn(join(p.app, 'node_modules', '.bin', 'tandem'), ['up', '-c', config, '--json'], {
        cwd: p.app,
        env: { ...process.env, ...p.hookEnv },
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
        expect(html).toBe(await readFile(join(p.installed, 'dist', 'dashboard', 'index.html'), 'utf8'))
        const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)
        expect(script).not.toBeNull()
        const asset = await fetch(`${summary.admin}/${script![1]}`)
        expect(asset.status).toBe(200)
        expect(await asset.text()).toBe(await readFile(join(p.installed, 'dist', 'dashboard', script![1]!), 'utf8'))
      } finally {
        if (child.exitCode === null) {
          const exited = once(child, 'exit')
          child.kill('SIGTERM')
          await exited
        }
      }
      expect(await snapshot(p.installed)).toEqual(before)
      await expectNoDevDependencyLoaded(p)
    })

    it('imports the library from plain Node.js ESM', { timeout: 5 * 60_000 }, async () => {
      await writeFile(
        join(p.app, 'use.mjs'),
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
      const r = await runProcess(process.execPath, ['use.mjs'], p.app, p.hookEnv)
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toEqual({
        value: { total: 3 },
        mismatched: true,
        kinds: ['function', 'function', 'function'],
        error: 'function',
      })
      const loads = await recordedLoads(p)
      expect(loads.filter((l) => DEV_ONLY.includes(packageOf(l.specifier) ?? ''))).toEqual([])
    })

    it(
      'type-checks a strict TypeScript consumer (nodenext) against the shipped declarations',
      { timeout: 5 * 60_000 },
      async () => {
        const tsconfig = {
          compilerOptions: {
            strict: true,
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            noEmit: true,
            skipLibCheck: false,
            types: ['node'],
          },
          files: ['consumer.ts'],
        }
        await writeFile(join(p.app, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`)
        await writeFile(
          join(p.app, 'consumer.ts'),
          `import { experiment, dualWrite, shadowRead, dualPublish, TandemError, type ExperimentResult, \
type DualWriteOptions, type ShadowReadOptions, type DualPublisher } from 'tandem'

const total: Promise<number> = experiment<number>('typed', \
{ publish: (r: ExperimentResult<number>) => void r.matched })
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
          [join(p.app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
          p.app,
        )
        expect(r.code, r.stdout + r.stderr).toBe(0)
      },
    )
  })
}
