// Judges a datastore or events system each analysis interval from continuous verification (SPEC 13):
// the window since the verified-through watermark, the failure logs, and the watermark's lag, as a Verdict.
import type { RuleEvidence, Verdict } from '../analysis/verdict.js'
import type { SystemConfig } from '../config/schema.js'
import { compare, parseThreshold, type Threshold } from '../config/units.js'
import { isTandemError } from '../errors.js'
import { redactSecrets } from '../redact.js'
import type { Store } from '../store/open.js'
import { getWatermark, saveWatermark, type MoveWatermark } from '../store/move-watermarks.js'
import type { SystemState } from '../store/system-state.js'
import { verifyDatastoreWindow } from './datastore-window.js'
import { verifyEventsWindow } from './events-window.js'
import { logEnd, readLogTail } from './log-tail.js'

/** Keys or ids listed per finding in a verdict's evidence. */
export const EVIDENCE_CAP = 20
const DEFAULT_TRIGGER = parseThreshold('> 0') as Threshold
const DEFAULT_MAX_LAG = 60_000

/** What was found in one window: the counts the rules judge and the keys/ids that prove them. */
export interface MoveFindings {
  readonly window: { readonly since: number; readonly until: number }
  readonly verifiedThrough: number
  readonly checked: number
  readonly dataMismatches: number
  readonly missingEvents: number
  readonly dualWriteFailures: number
  readonly full: boolean
  readonly details: Record<string, unknown>
  readonly error?: { readonly code: string; readonly message: string }
}

export function isMove(system: SystemConfig): boolean {
  return (
    (system.kind === 'datastore' && system.datastore !== undefined) ||
    (system.kind === 'events' && system.events !== undefined)
  )
}

/** One interval: verify, move the watermark on a pass, and return the verdict (with its findings). */
export async function judgeMove(
  store: Store,
  system: SystemConfig,
  state: SystemState,
  now: number,
): Promise<Verdict & { findings: MoveFindings }> {
  const wm = await currentWatermark(store, system, state, now)
  const findings = await verifyWindow(system, wm, now)
  // The watermark moves to the window's end only when both sides were proven equal over it (nothing
  // differing, whatever the thresholds or dry runs say); the lag rule judges the result.
  const equal = findings.error === undefined && findings.dataMismatches === 0 && findings.missingEvents === 0
  const through = equal ? Math.max(wm.verifiedThrough, findings.window.until) : wm.verifiedThrough
  const verdict = verdictOf(system, { ...findings, verifiedThrough: through }, now)
  const cursors = (findings.details.cursors as Record<string, number> | undefined) ?? wm.cursors
  await saveWatermark(store, {
    ...wm,
    verifiedThrough: through,
    fullAt: findings.full ? now : wm.fullAt,
    cursors,
    updatedAt: now,
  })
  return verdict
}

/** The stored watermark of this run, or a new one starting at the run's start (log failures counted from now). */
async function currentWatermark(
  store: Store,
  system: SystemConfig,
  state: SystemState,
  now: number,
): Promise<MoveWatermark> {
  const run = state.startedAt ?? now
  const stored = await getWatermark(store, system.name)
  if (stored !== undefined && stored.runStartedAt === run) return stored
  const cursors: Record<string, number> = {}
  for (const file of logFiles(system)) cursors[file] = await logEnd(file)
  return { system: system.name, runStartedAt: run, verifiedThrough: run, fullAt: run, cursors, updatedAt: now }
}

function logFiles(system: SystemConfig): string[] {
  const files = [system.datastore?.reconcileLog, system.datastore?.shadowReadLog, system.events?.replayLog]
  return files.filter((f): f is string => f !== undefined)
}

async function verifyWindow(system: SystemConfig, wm: MoveWatermark, now: number): Promise<MoveFindings> {
  const ds = system.datastore
  const ev = system.events
  const lag = ds?.lag ?? ev?.lag ?? 0
  let since = Math.max(wm.runStartedAt, wm.verifiedThrough - lag)
  let until = now - lag
  if (ev !== undefined) {
    // Events are verified in whole buckets: a bucket is judged once it is older than the lag. The first
    // window starts at the run's start (events before it were never dual-published), later ones on a bucket.
    since = wm.verifiedThrough
    until = Math.floor((now - lag) / ev.bucket) * ev.bucket
  }
  const base = {
    window: { since, until },
    verifiedThrough: wm.verifiedThrough,
    checked: 0,
    dataMismatches: 0,
    missingEvents: 0,
    dualWriteFailures: 0,
    full: false,
  }
  const details: Record<string, unknown> = {}
  try {
    const cursors: Record<string, number> = { ...wm.cursors }
    let dualWriteFailures = 0
    let shadowMismatches = 0
    const failLog = ds?.reconcileLog ?? ev?.replayLog
    if (failLog !== undefined) {
      const tail = await readLogTail(
        failLog,
        cursors[failLog] ?? 0,
        EVIDENCE_CAP,
        (e) => e.key ?? e.id ?? e.args ?? null,
      )
      cursors[failLog] = tail.offset
      dualWriteFailures = tail.count
      details.dualWriteFailures = { log: failLog, count: tail.count, keys: tail.sample }
    }
    if (ds?.shadowReadLog !== undefined) {
      const tail = await readLogTail(
        ds.shadowReadLog,
        cursors[ds.shadowReadLog] ?? 0,
        EVIDENCE_CAP,
        (e) => e.args ?? null,
      )
      cursors[ds.shadowReadLog] = tail.offset
      shadowMismatches = tail.count
      details.shadowReadMismatches = { log: ds.shadowReadLog, count: tail.count, args: tail.sample }
    }
    details.cursors = cursors
    if (until <= since)
      return {
        ...base,
        dualWriteFailures,
        dataMismatches: shadowMismatches,
        details: { ...details, note: 'no closed window yet (lag allowance)' },
      }
    if (ds !== undefined) {
      const full = now - wm.fullAt >= ds.fullEvery
      const w = await verifyDatastoreWindow(ds, since, until, full, EVIDENCE_CAP)
      details.tables = w.tables
      return {
        ...base,
        checked: w.rowsChecked,
        dataMismatches: w.mismatches + shadowMismatches,
        dualWriteFailures,
        full,
        details,
      }
    }
    const w = await verifyEventsWindow(ev!, since, until, EVIDENCE_CAP)
    details.events = w
    return { ...base, checked: w.counts.old, missingEvents: w.missingCount, dualWriteFailures, details }
  } catch (error) {
    // Bad input or an outage is never a pass: the verdict is inconclusive and names the coded error.
    const code = isTandemError(error) ? error.code : 'TANDEM_ERR_INTERNAL'
    return { ...base, details, error: { code, message: redactSecrets((error as Error).message) } }
  }
}

function verdictOf(system: SystemConfig, f: MoveFindings, now: number): Verdict & { findings: MoveFindings } {
  const a = system.analysis
  const dry = new Set(a.dryRun)
  const window = { start: f.window.since, end: f.window.until }
  const samples = { legacy: f.checked, candidate: f.checked }
  const rules: RuleEvidence[] = []
  const triggers: [string, Threshold | null | undefined, number][] = [
    ['dualWriteFailures', a.rollback.dualWriteFailures, f.dualWriteFailures],
    system.kind === 'datastore'
      ? ['dataMismatches', a.rollback.dataMismatches, f.dataMismatches]
      : ['missingEvents', a.rollback.missingEvents, f.missingEvents],
  ]
  for (const [metric, configured, value] of triggers) {
    const t = configured === undefined ? DEFAULT_TRIGGER : configured
    if (t === null) continue
    const fired = compare(value, t.op, t.value)
    const result = f.error !== undefined && !fired ? 'inconclusive' : fired ? 'fail' : 'pass'
    rules.push({
      rule: `rollback.${metric}`,
      metric,
      value,
      baseline: null,
      limit: t.value,
      threshold: t.source,
      samples,
      window,
      result,
      dryRun: dry.has(metric),
    })
  }
  const maxLag = a.promote.maxLag ?? DEFAULT_MAX_LAG
  const lag = now - f.verifiedThrough
  rules.push({
    rule: 'promote.maxLag',
    metric: 'verifiedLag',
    value: lag,
    baseline: null,
    limit: maxLag,
    threshold: `<= ${maxLag}ms`,
    samples,
    window,
    result: lag <= maxLag ? 'pass' : 'fail',
    dryRun: dry.has('verifiedLag'),
    note: `verified through ${new Date(f.verifiedThrough).toISOString()}`,
  })
  const fired = rules.filter((r) => r.rule.startsWith('rollback.') && r.result === 'fail' && !r.dryRun)
  const common = {
    system: system.name,
    window,
    judge: 'threshold' as const,
    score: null,
    rules,
    samples: { ...samples, minSamples: 0 },
    findings: f,
  }
  const promoteOk = !rules.some((r) => r.rule === 'promote.maxLag' && r.result === 'fail' && !r.dryRun)
  if (fired.length > 0) {
    return {
      ...common,
      verdict: 'fail',
      promoteOk: false,
      reason: fired.map((r) => `${r.metric} ${r.value} ${r.threshold}${named(f, r.metric)}`).join('; '),
    }
  }
  if (f.error !== undefined)
    return {
      ...common,
      verdict: 'inconclusive',
      promoteOk: false,
      reason: `verification failed: ${f.error.message} [${f.error.code}]`,
    }
  return { ...common, verdict: 'pass', promoteOk, reason: `both sides agree over the window (${f.checked} checked)` }
}

/** The first keys or ids behind a fired rule, for the one-line reason. */
function named(f: MoveFindings, metric: string): string {
  let items: unknown[] = []
  if (metric === 'dataMismatches')
    items = ((f.details.tables ?? []) as { keys: { key: unknown }[] }[]).flatMap((t) => t.keys.map((k) => k.key))
  if (metric === 'missingEvents') items = [...((f.details.events as { missing?: string[] } | undefined)?.missing ?? [])]
  if (metric === 'dualWriteFailures')
    items = [...((f.details.dualWriteFailures as { keys?: unknown[] } | undefined)?.keys ?? [])]
  if (items.length === 0) return ''
  const shown = items.slice(0, 5).map((k) => JSON.stringify(k))
  return ` (${shown.join(', ')}${items.length > 5 ? ', ...' : ''})`
}
