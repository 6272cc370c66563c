// The pre-migration checklist of one system (SPEC 7), and with `post` the post-migration one: the six built-in
// checks, custom probes and the
// data/events verifications, run with timeouts and persisted with their output in checklist_results.
import { fileURLToPath } from 'node:url'
import type { CheckConfig, Config, SystemConfig } from '../config/schema.js'
import { TandemError } from '../errors.js'
import { redactWebhook } from '../redact.js'
import { saveChecklistResults } from '../store/checklist.js'
import { getWatermark } from '../store/move-watermarks.js'
import type { Store } from '../store/open.js'
import { listStates } from '../store/system-state.js'
import { DONE_STAGES, type Stage } from '../domain/stages.js'
import { probeHttp, probeNonEmptyFile, probePath, runCommand, type ProbeResult } from './probes.js'

export const BUILTIN_CHECKS = ['backup', 'tests', 'dependencies', 'rollbackPlan', 'monitoring', 'notify'] as const
export type BuiltinCheck = (typeof BUILTIN_CHECKS)[number]

export interface CheckResult {
  /** A built-in name, `custom:NAME`, `dataDiff` or `eventsVerify`. */
  readonly check: string
  readonly configured: boolean
  /** True for a passing check and for one that is not configured (it does not block). */
  readonly ok: boolean
  readonly status: 'pass' | 'fail' | 'not-configured'
  readonly output: string
  readonly at: number
}

/** `tandem data diff` and `events verify` scan whole tables and streams; give them room. */
export const VERIFY_TIMEOUT_MS = 10 * 60_000

/** The `tandem` command: the compiled one beside this module, or from src/ (tests) the checkout's launcher. */
const TANDEM_BIN = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../bin/tandem.js' : '../cli/bin.js', import.meta.url),
)

export interface RunChecklistOptions {
  /** Stored stages, when the caller already read them. */
  readonly stages?: ReadonlyMap<string, Stage>
  readonly now?: () => number
  /** Persist results in checklist_results (default true). */
  readonly persist?: boolean
  /** Run the post-migration list (`checklist.post`, before `tandem finalize`) instead; stored as `post:NAME`. */
  readonly post?: boolean
}

/** A post-migration list that is not configured: every built-in check reads "not configured". */
const NO_POST = { custom: [] as const }

/** Run every check of `system` (configured or not, so the result lists all six) and persist them. */
export async function runChecklist(
  config: Config,
  store: Store,
  system: string,
  options: RunChecklistOptions = {},
): Promise<CheckResult[]> {
  const sys = config.systems.find((s) => s.name === system)
  if (sys === undefined) throw new TandemError('TANDEM_ERR_SYSTEM_NOT_FOUND', { system })
  const now = options.now ?? Date.now
  const stages = options.stages ?? new Map((await listStates(store)).map((s) => [s.system, s.stage]))
  const list: Omit<SystemConfig['checklist'], 'post'> =
    options.post === true ? (sys.checklist.post ?? NO_POST) : sys.checklist

  const jobs: Promise<CheckResult>[] = BUILTIN_CHECKS.map(async (name): Promise<CheckResult> => {
    const cfg = list[name]
    if (cfg === undefined)
      return { check: name, configured: false, ok: true, status: 'not-configured', output: 'not configured', at: now() }
    return finish(name, await runBuiltin(name, cfg, sys, stages), now)
  })
  for (const custom of list.custom) {
    jobs.push(
      runProbes({ command: custom.command, http: custom.http, timeout: custom.timeout }).then((r) =>
        finish(`custom:${custom.name}`, r ?? nothingToRun('a command or http'), now),
      ),
    )
  }
  const dd = list.dataDiff
  if (dd !== undefined) {
    const parts: Promise<ProbeResult>[] =
      dd.verifiedWithin === undefined ? [] : [watermarkCheck(store, sys.name, dd.verifiedWithin, now)]
    if (dd.from !== undefined && dd.to !== undefined && dd.table !== undefined)
      parts.push(dataDiffCheck({ ...dd, from: dd.from, to: dd.to, table: dd.table }))
    jobs.push(Promise.all(parts).then((r) => finish('dataDiff', combine(r), now)))
  }
  const ev = list.eventsVerify
  if (ev !== undefined) {
    const parts: Promise<ProbeResult>[] =
      ev.verifiedWithin === undefined ? [] : [watermarkCheck(store, sys.name, ev.verifiedWithin, now)]
    if (ev.from !== undefined && ev.to !== undefined && ev.id !== undefined)
      parts.push(eventsVerifyCheck({ ...ev, from: ev.from, to: ev.to, id: ev.id }))
    jobs.push(Promise.all(parts).then((r) => finish('eventsVerify', combine(r), now)))
  }
  const results = await Promise.all(jobs)
  if (options.persist !== false)
    await saveChecklistResults(
      store,
      system,
      options.post === true ? results.map((r) => ({ ...r, check: `post:${r.check}` })) : results,
    )
  return results
}

type DataDiffCheck = NonNullable<SystemConfig['checklist']['dataDiff']>
type EventsVerifyCheck = NonNullable<SystemConfig['checklist']['eventsVerify']>

function dataDiffCheck(dd: DataDiffCheck & { from: string; to: string; table: string }): Promise<ProbeResult> {
  const argv = ['data', 'diff', '--from', dd.from, '--to', dd.to, '--table', dd.table]
  if (dd.toTable !== undefined) argv.push('--to-table', dd.toTable)
  if (dd.key !== undefined) argv.push('--key', dd.key.join(','))
  if (dd.columns !== undefined) argv.push('--columns', dd.columns.join(','))
  if (dd.where !== undefined) argv.push('--where', dd.where)
  return runTandem(argv)
}

function eventsVerifyCheck(ev: EventsVerifyCheck & { from: string; to: string; id: string }): Promise<ProbeResult> {
  const argv = ['events', 'verify', '--from', ev.from, '--to', ev.to, '--id', ev.id]
  if (ev.since !== undefined) argv.push('--since', ev.since)
  if (ev.until !== undefined) argv.push('--until', ev.until)
  return runTandem(argv)
}

/** The move's verified-through watermark (SPEC 13) must be at most `within` ms old. */
async function watermarkCheck(store: Store, system: string, within: number, now: () => number): Promise<ProbeResult> {
  const w = await getWatermark(store, system)
  if (w === undefined)
    return { ok: false, output: `${system} has no verified window yet; start it and let continuous verification run` }
  const age = now() - w.verifiedThrough
  const text =
    `verified through ${new Date(w.verifiedThrough).toISOString()} (${Math.round(age / 1000)}s ago, limit` +
    ` ${Math.round(within / 1000)}s)`
  return { ok: age <= within, output: text }
}

function finish(check: string, r: ProbeResult, now: () => number): CheckResult {
  return { check, configured: true, ok: r.ok, status: r.ok ? 'pass' : 'fail', output: r.output, at: now() }
}

function nothingToRun(what: string): ProbeResult {
  return { ok: false, output: `nothing to check: configure ${what}` }
}

/** The `command` and `http` probes any check may carry; undefined when it has neither. */
async function runProbes(cfg: {
  command?: string | undefined
  http?: string | undefined
  timeout: number
}): Promise<ProbeResult | undefined> {
  const parts: ProbeResult[] = []
  if (cfg.command !== undefined) parts.push(await runCommand(cfg.command, cfg.timeout))
  if (cfg.http !== undefined) parts.push(await probeHttp(cfg.http, cfg.timeout))
  return parts.length === 0 ? undefined : combine(parts)
}

function combine(parts: readonly ProbeResult[]): ProbeResult {
  return { ok: parts.every((p) => p.ok), output: parts.map((p) => p.output).join('\n') }
}

async function runBuiltin(
  name: BuiltinCheck,
  cfg: CheckConfig,
  sys: SystemConfig,
  stages: ReadonlyMap<string, Stage>,
): Promise<ProbeResult> {
  const parts: ProbeResult[] = []
  const probes = await runProbes(cfg)
  if (probes !== undefined) parts.push(probes)
  switch (name) {
    case 'backup':
      if (cfg.path !== undefined) parts.push(await probePath(cfg.path))
      if (parts.length === 0) return nothingToRun('`path` (must exist) or `command` (must exit 0)')
      break
    case 'tests':
      if (parts.length === 0) return nothingToRun('`command` (the test suite; must exit 0)')
      break
    case 'dependencies':
      parts.push(dependencies(sys, stages))
      break
    case 'rollbackPlan':
      if (cfg.file !== undefined) parts.push(await probeNonEmptyFile(cfg.file))
      if (parts.length === 0) return nothingToRun('`file` (the rollback plan; must exist and be non-empty)')
      break
    case 'monitoring':
      // Explicit probes replace the default health check of both targets.
      if (probes === undefined) parts.push(await monitoring(sys, cfg.timeout))
      break
    case 'notify':
      if (cfg.webhook !== undefined) {
        const text = `tandem: pre-migration checklist of ${sys.name} (notification check)`
        parts.push(
          await probeHttp(
            cfg.webhook,
            cfg.timeout,
            { text, system: sys.name, event: 'checklist' },
            redactWebhook(cfg.webhook),
          ),
        )
      }
      if (parts.length === 0) return nothingToRun('`webhook` (must accept a POST)')
      break
  }
  return combine(parts)
}

function dependencies(sys: SystemConfig, stages: ReadonlyMap<string, Stage>): ProbeResult {
  if (sys.dependsOn.length === 0) return { ok: true, output: 'no dependsOn: nothing to wait for' }
  const lines = sys.dependsOn.map((d) => {
    const stage = stages.get(d) ?? 'pending'
    return { d, stage, ok: DONE_STAGES.includes(stage) }
  })
  const blocking = lines.filter((l) => !l.ok)
  const detail = lines.map((l) => `${l.d}: ${l.stage}${l.ok ? '' : ' (must be promoted or completed)'}`).join('\n')
  return { ok: blocking.length === 0, output: detail }
}

async function monitoring(sys: SystemConfig, timeoutMs: number): Promise<ProbeResult> {
  const targets = [
    ['legacy', sys.legacy?.url],
    ['candidate', sys.candidate?.url],
  ] as const
  if (targets.some(([, url]) => url === undefined)) {
    return nothingToRun('`http` or `command` (this system has no legacy and candidate targets to probe)')
  }
  const parts = await Promise.all(
    targets.map(([arm, url]) =>
      probeHttp(`${url!.replace(/\/+$/, '')}${sys.health.path}`, timeoutMs).then((r) => ({
        ok: r.ok,
        output: `${arm}: ${r.output}`,
      })),
    ),
  )
  return combine(parts)
}

/**
 * Run a tandem verb in a child process (`data diff`, `events verify`): exit 0 passes, 1 found differences, 2 failed.
 */
async function runTandem(argv: readonly string[]): Promise<ProbeResult> {
  const r = await runCommand([process.execPath, TANDEM_BIN, ...argv, '--json'], VERIFY_TIMEOUT_MS)
  if (r.ok) return r
  const why =
    r.exitCode === 1
      ? 'differences found'
      : r.exitCode === 2
        ? 'the verification could not run'
        : 'the verification did not finish'
  return { ok: false, output: `${why}\n${r.output}` }
}
