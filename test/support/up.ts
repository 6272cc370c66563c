// The test kit's one `spawnUp`: the real `tandem up` (bin/tandem.js) in its own process, as an operator
// runs it, ready once the admin listener answers /healthz. Whatever a test leaves running is killed and
// its temporary directory removed, when the test file ends.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { request } from 'undici'
import { afterAll } from 'vitest'
import { distIsFresh } from '../../bin/build-state.js'
import { BIN, ROOT } from './cli.js'
import { tandemConfig, writeConfig, type ConfigInput } from './config.js'
import { eventually } from './eventually.js'
import { temporaryDir } from './temp-dir.js'

export interface UpOptions {
  /** Where the config is written (default a new temporary directory, removed when the file ends). */
  readonly dir?: string
  /** The working directory of the process (default the config's directory). */
  readonly cwd?: string
  /** More arguments after `up -c FILE --json`, e.g. `--no-controller`. */
  readonly args?: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  /** Run the compiled dist/, as an installed tandem does (rebuilt first when stale). */
  readonly dist?: boolean
}

/** The JSON document `tandem up --json` prints once both listeners are up. */
export interface UpSummary {
  readonly gateway: string
  readonly admin: string
  readonly metrics: string
  readonly systems: readonly string[]
  readonly pid: number
}

export interface UpProcess {
  readonly child: ChildProcess
  readonly gatewayUrl: string
  readonly adminUrl: string
  readonly summary: UpSummary
  readonly configFile: string
  readonly dir: string
  stdout(): string
  stderr(): string
  /** Peak resident set size (VmHWM) in bytes. */
  peakRss(): number
  /** SIGTERM (a graceful drain), then wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>
}

const running = new Set<UpProcess>()
// bench/ starts `tandem up` too, outside vitest: there no test file ends, and the caller stops it.
if (process.env.VITEST !== undefined) {
  afterAll(async () => {
    for (const up of running) await up.kill()
  })
}

/**
 * Start `tandem up` with `config`: a path to an existing file, or a document written to `dir`/tandem.yaml
 * (a document without a store gets one in `dir`).
 */
export async function spawnUp(config: string | ConfigInput, options: UpOptions = {}): Promise<UpProcess> {
  const dir = options.dir ?? (typeof config === 'string' ? dirname(config) : temporaryDir())
  const configFile = typeof config === 'string' ? config : writeConfig(dir, { ...tandemConfig({ dir }), ...config })
  if (options.dist === true && !distIsFresh()) {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'ignore' })
  }
  const child = spawn(process.execPath, [BIN, 'up', '-c', configFile, '--json', ...(options.args ?? [])], {
    cwd: options.cwd ?? dirname(configFile),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()))
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))
  const exited = once(child, 'exit').catch(() => undefined)
  const up: UpProcess = {
    child,
    configFile,
    dir,
    gatewayUrl: '',
    adminUrl: '',
    summary: undefined as unknown as UpSummary,
    stdout: () => stdout,
    stderr: () => stderr,
    peakRss() {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
      return Number(kb![1]) * 1024
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
      running.delete(up)
      return child.exitCode
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
      running.delete(up)
    },
  }
  running.add(up)
  try {
    const summary = await readSummary(
      child,
      () => stdout,
      () => stderr,
    )
    Object.assign(up, { summary, gatewayUrl: summary.gateway, adminUrl: summary.admin })
    await eventually(async () => {
      const res = await request(`${summary.admin}/healthz`)
      await res.body.dump()
      return res.statusCode === 200
    })
  } catch (error) {
    await up.kill()
    throw error
  }
  return up
}

/** --json prints one document once the listeners are up, or `{ error }` when startup failed. */
function readSummary(child: ChildProcess, stdout: () => string, stderr: () => string): Promise<UpSummary> {
  return new Promise((resolve, reject) => {
    const onData = () => {
      let parsed: UpSummary & { error?: unknown }
      try {
        parsed = JSON.parse(stdout()) as UpSummary & { error?: unknown }
      } catch {
        return // not complete yet
      }
      child.stdout!.off('data', onData)
      if (parsed.error !== undefined) reject(new Error(`tandem up failed: ${stdout()} ${stderr()}`))
      else resolve(parsed)
    }
    child.stdout!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`tandem up exited early with ${code}: ${stderr()}`)))
  })
}
