// The program report as data (`tandem report --format json`, and the input of the md and html
// renderers): KPIs, wave progress, one row per system, and rollbacks with their failure reports.
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { Config } from '../config/schema.js'
import { redactSecrets } from '../redact.js'
import type { Store } from '../store/open.js'
import { listStates } from '../store/system-state.js'
import { listWatermarks } from '../store/move-watermarks.js'
import type { Stage } from '../domain/stages.js'
import { programKpis, type Kpis } from './kpis.js'
import { unassignedSystems, waveOf, waveStatus, type WaveStatus } from './waves.js'
import { playbookFacts, verificationOf, type RollbackVerification } from './report-playbook.js'
import type { ProgramState } from '../store/program-state.js'
import type { TargetResult } from './targets.js'
import type { WavePlan } from './wave-plan.js'

export interface SystemRow {
  readonly name: string
  readonly kind: string
  readonly category: string
  readonly priority: string
  readonly wave: string | null
  readonly stage: Stage
  readonly paused: boolean
  readonly weight: number
  readonly matchRate: number | null
  readonly latencyChange: number | null
  readonly throughputChange: number | null
  /** Hours from the start of the current attempt to promotion (or to the rollback / now). */
  readonly migrationHours: number | null
  readonly startedAt: number | null
  readonly promotedAt: number | null
  readonly verdicts: { readonly pass: number; readonly fail: number; readonly inconclusive: number }
  readonly lastVerdict: string | null
  readonly rollbacks: number
  /** Datastore and events systems: the verified-through time (ms), null before the first verified window. */
  readonly verifiedThrough?: number | null
}

export interface FailureReport {
  readonly file: string
  readonly system: string
  readonly timestamp: number | null
  readonly reason: string
  readonly stage: string | null
  readonly weight: number | null
  /** The report as written by the rollout controller (evidence, recentDecisions, metrics, diffs). */
  readonly content: Record<string, unknown>
}

export interface RollbackRow {
  readonly system: string
  /** When the rollback decision was recorded; null for a failure report without a stored decision. */
  readonly at: number | null
  readonly reason: string
  readonly actor: string | null
  readonly fromStage: string | null
  readonly weight: number | null
  readonly failureReport: FailureReport | null
  /** `rollback-verified` or `rollback-failed` one interval after it (SPEC 5); null while pending or unknown. */
  readonly verification: RollbackVerification | null
}

export interface ProgramReport {
  readonly generatedAt: number
  readonly store: string
  readonly kpis: Kpis
  readonly waves: readonly WaveStatus[]
  /** Systems in no wave although waves exist: only their checklist gates them. */
  readonly unassigned: readonly string[]
  readonly systems: readonly SystemRow[]
  readonly rollbacks: readonly RollbackRow[]
  /** Halted by a mass failure or an operator, and why (SPEC 7). */
  readonly program: ProgramState
  /** Each KPI against its target (`program.targets`). */
  readonly targets: readonly TargetResult[]
  /** Planned waves against actual, with the projected end. */
  readonly wavePlans: readonly WavePlan[]
}

/** A rollback decision and a failure report belong together when written within this much of each other. */
const MATCH_WINDOW_MS = 10 * 60_000

export async function buildReport(
  config: Config,
  store: Store,
  options: { now?: number; failureDirs?: readonly string[] } = {},
): Promise<ProgramReport> {
  const now = options.now ?? Date.now()
  const [{ kpis, facts }, states, watermarks] = await Promise.all([
    programKpis(config, store, now),
    listStates(store),
    listWatermarks(store),
  ])
  const verified = new Map(watermarks.map((w) => [w.system, w.verifiedThrough]))
  const systems: SystemRow[] = config.systems.map((s, i) => {
    const f = facts[i]!
    const end = f.promotedAt ?? f.periodEnd
    return {
      name: s.name,
      kind: s.kind,
      category: s.category,
      priority: s.priority,
      wave: waveOf(config, s)?.name ?? null,
      stage: f.stage,
      paused: f.paused,
      weight: f.weight,
      matchRate: f.matchRate,
      latencyChange: f.latencyChange,
      throughputChange: f.throughputChange,
      migrationHours: f.startedAt === null || end === null ? null : (end - f.startedAt) / 3_600_000,
      startedAt: f.startedAt,
      promotedAt: f.promotedAt,
      verdicts: f.verdicts,
      lastVerdict: f.lastVerdict,
      rollbacks: f.rollbacks.length,
      ...(s.kind === 'http' ? {} : { verifiedThrough: verified.get(s.name) ?? null }),
    }
  })
  const names = new Set(config.systems.map((s) => s.name))
  const reports = (await readFailureReports(options.failureDirs ?? failureDirs(config))).filter((r) =>
    names.has(r.system),
  )
  const playbook = await playbookFacts(config, store, kpis, facts, now)
  const rollbacks = pairRollbacks(
    facts.flatMap((f) => f.rollbacks),
    reports,
  ).map((r, i, all) => {
    const next = all.slice(i + 1).find((o) => o.system === r.system)?.at ?? null
    return { ...r, verification: verificationOf(playbook.verifications.get(r.system), r.at, next) }
  })
  return {
    generatedAt: now,
    store: redactSecrets(config.store),
    kpis,
    waves: waveStatus(config, states),
    unassigned: unassignedSystems(config),
    systems,
    rollbacks,
    program: playbook.program,
    targets: playbook.targets,
    wavePlans: playbook.wavePlans,
  }
}

/** Where the rollout controller writes failure reports: `.tandem/failures`, and beside a SQLite store. */
export function failureDirs(config: Config): string[] {
  const dirs = [resolve('.tandem/failures')]
  if (config.store.startsWith('sqlite:')) {
    const path = config.store.slice('sqlite:'.length)
    if (path !== '' && path !== ':memory:') dirs.push(resolve(dirname(path), 'failures'))
  }
  return [...new Set(dirs)]
}

export async function readFailureReports(dirs: readonly string[]): Promise<FailureReport[]> {
  const out: FailureReport[] = []
  for (const dir of dirs) {
    const files = await readdir(dir).catch(() => [] as string[])
    for (const name of files.filter((f) => f.endsWith('.json')).sort()) {
      const file = join(dir, name)
      try {
        const content = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
        if (typeof content.system !== 'string') continue
        out.push({
          file,
          system: content.system,
          timestamp: parseTime(content.timestamp),
          reason: typeof content.reason === 'string' ? content.reason : '',
          stage: typeof content.stage === 'string' ? content.stage : null,
          weight: typeof content.weight === 'number' ? content.weight : null,
          content,
        })
      } catch {
        // A half-written or foreign file is not a failure report; the report lists what it can read.
      }
    }
  }
  return out
}

function parseTime(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'string') {
    const t = Date.parse(v)
    return Number.isNaN(t) ? null : t
  }
  return null
}

/**
 * Attach to each rollback decision the closest failure report of the same system; unclaimed reports get their own
 * row.
 */
function pairRollbacks(
  decisions: readonly {
    system: string
    at: number
    reason: string
    actor: string
    fromStage: string
    weight: number
  }[],
  reports: readonly FailureReport[],
): Omit<RollbackRow, 'verification'>[] {
  const unclaimed = new Set(reports)
  const rows: Omit<RollbackRow, 'verification'>[] = decisions.map((d) => {
    let best: FailureReport | null = null
    for (const r of unclaimed) {
      if (r.system !== d.system || r.timestamp === null) continue
      const gap = Math.abs(r.timestamp - d.at)
      if (gap <= MATCH_WINDOW_MS && (best === null || gap < Math.abs(best.timestamp! - d.at))) best = r
    }
    if (best !== null) unclaimed.delete(best)
    return {
      system: d.system,
      at: d.at,
      reason: d.reason,
      actor: d.actor,
      fromStage: d.fromStage,
      weight: d.weight,
      failureReport: best,
    }
  })
  for (const r of unclaimed) {
    rows.push({
      system: r.system,
      at: r.timestamp,
      reason: r.reason,
      actor: null,
      fromStage: r.stage,
      weight: r.weight,
      failureReport: r,
    })
  }
  return rows.sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
}
