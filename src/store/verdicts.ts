// Stored verdicts with their evidence: the controller writes one per analysis interval and counts the
// consecutive failures; the admin API, the CLI and the program's KPIs read them.
import { assertFence, type LeaseFence } from './lease.js'
import type { Store } from './open.js'
import type { Stage } from '../domain/stages.js'
import type { SystemState } from './system-state.js'

export interface StoredVerdict {
  readonly id: number
  readonly system: string
  readonly at: number
  readonly stage: Stage
  readonly stepIndex: number
  readonly weight: number
  readonly verdict: 'pass' | 'fail' | 'inconclusive'
  readonly judge: string
  readonly score: number | null
  readonly windowStart: number
  readonly windowEnd: number
  /** { reason, samples, promoteOk, rules: RuleEvidence[] } as written by the controller. */
  readonly evidence: { reason: string; rules: unknown[]; [key: string]: unknown }
}

/** What the store keeps of an analysis verdict (src/analysis/verdict.ts's `Verdict` is one). */
export interface VerdictToSave {
  readonly window: { readonly start: number; readonly end: number }
  readonly verdict: StoredVerdict['verdict']
  readonly judge: string
  readonly score: number | null
  readonly reason: string
  readonly rules: readonly unknown[]
  readonly promoteOk: boolean
  readonly samples: unknown
  readonly findings?: unknown
}

/** A verdict in a period, its evidence left as stored JSON (parsed only when needed). */
export interface VerdictOutcome {
  readonly verdict: StoredVerdict['verdict']
  readonly at: number
  readonly evidenceJson: string
}

/** Store a verdict; with the controller's lease `fence`, refused (TANDEM_ERR_LEASE_LOST) from a stale holder. */
export async function saveVerdict(
  store: Store,
  state: SystemState,
  verdict: VerdictToSave,
  at: number,
  fence?: LeaseFence,
): Promise<void> {
  const { reason, samples, promoteOk, rules, findings } = verdict
  const evidence =
    findings === undefined ? { reason, samples, promoteOk, rules } : { reason, samples, promoteOk, rules, findings }
  await store.db.transaction().execute(async (trx) => {
    if (fence !== undefined) await assertFence(trx, store.dialect, fence)
    await trx
      .insertInto('verdicts')
      .values({
        system: state.system,
        at,
        stage: state.stage,
        step_index: state.stepIndex,
        weight: state.weight,
        verdict: verdict.verdict,
        judge: verdict.judge,
        score: verdict.score,
        window_start: verdict.window.start,
        window_end: verdict.window.end,
        evidence: JSON.stringify(evidence),
      })
      .execute()
  })
}

/** Newest first; one system or all, optionally only those at or after `since`. */
export async function listVerdicts(
  store: Store,
  options: { readonly system?: string; readonly since?: number; readonly limit: number },
): Promise<StoredVerdict[]> {
  let q = store.db.selectFrom('verdicts').selectAll()
  if (options.system !== undefined) q = q.where('system', '=', options.system)
  if (options.since !== undefined) q = q.where('at', '>=', options.since)
  const rows = await q.orderBy('id', 'desc').limit(options.limit).execute()
  return rows.map((r) => ({
    id: Number(r.id),
    system: r.system,
    at: Number(r.at),
    stage: r.stage,
    stepIndex: r.step_index,
    weight: Number(r.weight),
    verdict: r.verdict,
    judge: r.judge,
    score: r.score === null ? null : Number(r.score),
    windowStart: Number(r.window_start),
    windowEnd: Number(r.window_end),
    evidence: JSON.parse(r.evidence),
  }))
}

/** The newest `limit` verdicts of a system at or after `since`, newest first. */
export async function recentVerdicts(store: Store, system: string, limit: number, since = 0): Promise<StoredVerdict[]> {
  return listVerdicts(store, { system, since, limit })
}

/** Failing verdicts in a row, newest first, since `since` (the start of the current run). */
export async function consecutiveFailures(store: Store, system: string, since: number, limit: number): Promise<number> {
  const recent = await recentVerdicts(store, system, limit, since)
  let n = 0
  for (const v of recent) {
    if (v.verdict !== 'fail') break
    n++
  }
  return n
}

/** Every verdict of a system taken from `from` to `until` (inclusive), oldest first. */
export async function verdictsBetween(
  store: Store,
  system: string,
  from: number,
  until: number,
): Promise<VerdictOutcome[]> {
  const rows = await store.db
    .selectFrom('verdicts')
    .select(['verdict', 'evidence', 'at'])
    .where('system', '=', system)
    .where('at', '>=', from)
    .where('at', '<=', until)
    .orderBy('id')
    .execute()
  return rows.map((r) => ({ verdict: r.verdict, at: Number(r.at), evidenceJson: r.evidence }))
}
