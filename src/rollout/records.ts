// What the controller keeps in the store besides state and decisions: every verdict with its evidence,
// and the metric windows of each interval (KPIs and the dashboard are computed from these rows).
import type { Verdict } from '../analysis/verdict.js'
import type { MetricsReader } from '../metrics/reader.js'
import type { Store } from '../store/open.js'
import { listVerdicts, type StoredVerdict } from '../store/verdicts.js'
import type { SystemState } from '../store/system-state.js'

export type { StoredVerdict }

export async function saveVerdict(store: Store, state: SystemState, verdict: Verdict, at: number): Promise<void> {
  const evidence = { reason: verdict.reason, samples: verdict.samples, promoteOk: verdict.promoteOk, rules: verdict.rules }
  await store.db
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
}

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

/** End of the last persisted metric window of a system (0 when none), to continue without overlap. */
export async function lastMetricWindowEnd(store: Store, system: string): Promise<number> {
  const row = await store.db
    .selectFrom('metric_windows')
    .select((eb) => eb.fn.max('window_end').as('end'))
    .where('system', '=', system)
    .executeTakeFirst()
  return Number(row?.end ?? 0)
}

export async function saveMetricWindows(store: Store, metrics: MetricsReader, system: string, start: number, end: number): Promise<void> {
  const rows = (await metrics.routes(system, start, end)).flatMap((r) =>
    (['legacy', 'candidate'] as const)
      .filter((arm) => r[arm].requests > 0)
      .map((arm) => {
        const w = r[arm]
        return {
          system,
          route: r.route,
          arm,
          window_start: start,
          window_end: end,
          requests: w.requests,
          errors: w.errors,
          successes: w.successes,
          p50_ms: w.latency.p50,
          p95_ms: w.latency.p95,
          p99_ms: w.latency.p99,
          mean_ms: w.latency.mean,
        }
      }),
  )
  if (rows.length > 0) await store.db.insertInto('metric_windows').values(rows).execute()
}

/** Who paused the system last, for "paused by alice". */
export async function lastActor(store: Store, system: string, action: string): Promise<string | null> {
  const row = await store.db
    .selectFrom('decisions')
    .select(['actor'])
    .where('system', '=', system)
    .where('action', '=', action)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst()
  return row?.actor ?? null
}
