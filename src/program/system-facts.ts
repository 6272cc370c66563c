// Per-system facts for KPIs and reports, read from the store only (decisions, system_state, verdicts,
// metric_windows, compare_windows): the current migration attempt, its match rate, latency and throughput.
import { sql } from 'kysely'
import { comparedCount, matchRate as matchRateOf } from '../compare/match-rate.js'
import type { Config } from '../config/schema.js'
import type { Store } from '../store/open.js'
import { ACTIVE_STAGES, RESTING_STAGES, type Stage } from '../domain/stages.js'
import type { DecisionTable } from '../store/tables.js'

export interface RollbackFact {
  readonly system: string
  readonly at: number
  readonly reason: string
  readonly actor: string
  readonly fromStage: Stage
  readonly weight: number
}

export interface SystemFacts {
  readonly system: string
  readonly stage: Stage
  readonly paused: boolean
  readonly weight: number
  /** Start (or retry) of the current attempt: the last move from pending/rolled-back into an active stage. */
  readonly startedAt: number | null
  /** First promotion after startedAt. */
  readonly promotedAt: number | null
  readonly completedAt: number | null
  /** End of the measured period: promotion, the rollback that ended the attempt, or now. */
  readonly periodEnd: number | null
  /** matches / (matches + mismatches) over the attempt; from the last verdict's evidence when no comparison windows exist. */
  readonly matchRate: number | null
  readonly compared: number
  /** candidate mean latency / legacy mean latency - 1 (request-weighted means). */
  readonly latencyChange: number | null
  /** candidate successes-per-request / legacy successes-per-request - 1. */
  readonly throughputChange: number | null
  /** Minutes of metric windows in which the system served requests and none succeeded. */
  readonly downtimeMinutes: number
  readonly verdicts: { readonly pass: number; readonly fail: number; readonly inconclusive: number }
  readonly lastVerdict: string | null
  readonly rollbacks: readonly RollbackFact[]
}

/** The columns of a decision row that the facts need. */
type DecisionRow = Pick<DecisionTable, 'system' | 'at' | 'action' | 'actor' | 'reason' | 'from_stage' | 'to_stage' | 'weight'>

/** Facts for every configured system, in config order. */
export async function systemFacts(config: Config, store: Store, now: number): Promise<SystemFacts[]> {
  const names = config.systems.map((s) => s.name)
  if (names.length === 0) return []
  const [states, decisions] = await Promise.all([
    store.db.selectFrom('system_state').selectAll().where('system', 'in', names).execute(),
    store.db
      .selectFrom('decisions')
      .select(['system', 'at', 'action', 'actor', 'reason', 'from_stage', 'to_stage', 'weight'])
      .where('system', 'in', names)
      .orderBy('id')
      .execute(),
  ])
  const stateOf = new Map(states.map((s) => [s.system, s]))
  const byName = new Map<string, DecisionRow[]>()
  for (const d of decisions) {
    const list = byName.get(d.system) ?? []
    list.push({ ...d, at: Number(d.at), weight: Number(d.weight) })
    byName.set(d.system, list)
  }
  return Promise.all(names.map((name) => factsOf(store, name, stateOf.get(name), byName.get(name) ?? [], now)))
}

/** Earliest move of any system out of pending: when the program started. */
export async function programStartedAt(config: Config, store: Store): Promise<number | null> {
  const names = config.systems.map((s) => s.name)
  if (names.length === 0) return null
  const row = await store.db
    .selectFrom('decisions')
    .select((eb) => eb.fn.min('at').as('at'))
    .where('system', 'in', names)
    .where('from_stage', '=', 'pending')
    .where('to_stage', '!=', 'pending')
    .executeTakeFirst()
  return row?.at === null || row?.at === undefined ? null : Number(row.at)
}

async function factsOf(
  store: Store,
  system: string,
  state: { stage: Stage; paused: number; weight: number; started_at: number | null; promoted_at: number | null; completed_at: number | null } | undefined,
  decisions: readonly DecisionRow[],
  now: number,
): Promise<SystemFacts> {
  const stage: Stage = state?.stage ?? 'pending'
  const starts = decisions.filter((d) => RESTING_STAGES.includes(d.from_stage) && ACTIVE_STAGES.includes(d.to_stage))
  const startedAt = starts.at(-1)?.at ?? (state?.started_at === null || state === undefined ? null : Number(state.started_at))
  const after = decisions.filter((d) => startedAt !== null && d.at >= startedAt)
  const promotedAt = after.find((d) => d.to_stage === 'promoted' && d.from_stage !== 'promoted')?.at ?? nullable(state?.promoted_at)
  const completedAt = after.find((d) => d.to_stage === 'completed' && d.from_stage !== 'completed')?.at ?? nullable(state?.completed_at)
  const endingRollback = stage === 'rolled-back' ? after.find((d) => d.to_stage === 'rolled-back')?.at : undefined
  const periodEnd = startedAt === null ? null : (promotedAt ?? endingRollback ?? now)

  const rollbacks = decisions
    .filter((d) => d.to_stage === 'rolled-back' && d.from_stage !== 'rolled-back')
    .map((d) => ({ system, at: d.at, reason: d.reason, actor: d.actor, fromStage: d.from_stage, weight: d.weight }))

  const from = startedAt ?? 0
  const until = periodEnd ?? now
  const [compare, arms, verdictRows, downtime] = await Promise.all([
    store.db
      .selectFrom('compare_windows')
      .select((eb) => [eb.fn.sum<number>('matches').as('matches'), eb.fn.sum<number>('mismatches').as('mismatches'), eb.fn.sum<number>('noise_only').as('noise_only')])
      .where('system', '=', system)
      .where('window_start', '>=', from)
      .where('window_end', '<=', until)
      .executeTakeFirst(),
    store.db
      .selectFrom('metric_windows')
      .select((eb) => [
        'arm',
        eb.fn.sum<number>('requests').as('requests'),
        eb.fn.sum<number>('successes').as('successes'),
        sql<number>`sum(coalesce(mean_ms, 0) * requests)`.as('latency_total'),
        sql<number>`sum(case when mean_ms is null then 0 else requests end)`.as('latency_requests'),
      ])
      .where('system', '=', system)
      .where('window_start', '>=', from)
      .where('window_end', '<=', until)
      .groupBy('arm')
      .execute(),
    store.db.selectFrom('verdicts').select(['verdict', 'evidence', 'at']).where('system', '=', system).where('at', '>=', from).where('at', '<=', until).orderBy('id').execute(),
    downtimeMinutes(store, system),
  ])

  const counts = { match: Number(compare?.matches ?? 0), mismatch: Number(compare?.mismatches ?? 0), noiseOnly: Number(compare?.noise_only ?? 0) }
  const lastVerdict = verdictRows.at(-1)
  const matchRate = matchRateOf(counts) ?? (lastVerdict === undefined ? null : matchRateFromEvidence(lastVerdict.evidence))

  const arm = (name: string) => arms.find((a) => a.arm === name)
  const legacy = arm('legacy')
  const candidate = arm('candidate')
  const ratio = (c: number, l: number) => (l > 0 && Number.isFinite(c / l) ? c / l - 1 : null)
  const meanLatency = (a: typeof legacy) => (a === undefined || Number(a.latency_requests) === 0 ? null : Number(a.latency_total) / Number(a.latency_requests))
  const successRate = (a: typeof legacy) => (a === undefined || Number(a.requests) === 0 ? null : Number(a.successes) / Number(a.requests))
  const lc = meanLatency(candidate)
  const ll = meanLatency(legacy)
  const tc = successRate(candidate)
  const tl = successRate(legacy)

  const verdicts = { pass: 0, fail: 0, inconclusive: 0 }
  for (const v of verdictRows) verdicts[v.verdict] += 1

  return {
    system,
    stage,
    paused: Boolean(state?.paused ?? 0),
    weight: Number(state?.weight ?? 0),
    startedAt,
    promotedAt,
    completedAt,
    periodEnd,
    matchRate,
    compared: comparedCount(counts),
    latencyChange: lc === null || ll === null ? null : ratio(lc, ll),
    throughputChange: tc === null || tl === null ? null : ratio(tc, tl),
    downtimeMinutes: downtime,
    verdicts,
    lastVerdict: lastVerdict?.verdict ?? null,
    rollbacks,
  }
}

/**
 * Downtime: a window (same start and end, all routes and arms together) with requests and no success.
 * Each such window counts for its own length, so overlapping route rows are not counted twice.
 */
async function downtimeMinutes(store: Store, system: string): Promise<number> {
  const rows = await store.db
    .selectFrom('metric_windows')
    .select((eb) => ['window_start', 'window_end', eb.fn.sum<number>('requests').as('requests'), eb.fn.sum<number>('successes').as('successes')])
    .where('system', '=', system)
    .groupBy(['window_start', 'window_end'])
    .execute()
  const ms = rows.filter((r) => Number(r.requests) > 0 && Number(r.successes) === 0).reduce((n, r) => n + (Number(r.window_end) - Number(r.window_start)), 0)
  return ms / 60_000
}

/** Verdict evidence is a list of rules ({ metric, value, ... }), possibly under `rules`; take matchRate's value. */
export function matchRateFromEvidence(text: string): number | null {
  try {
    const parsed = JSON.parse(text) as unknown
    const rules = Array.isArray(parsed) ? parsed : ((parsed as { rules?: unknown })?.rules ?? [])
    if (!Array.isArray(rules)) return null
    const rule = rules.find((r) => (r as { metric?: unknown })?.metric === 'matchRate') as { value?: unknown } | undefined
    return typeof rule?.value === 'number' ? rule.value : null
  } catch {
    return null
  }
}

function nullable(v: number | null | undefined): number | null {
  return v === null || v === undefined ? null : Number(v)
}
