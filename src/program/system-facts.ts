// Per-system facts for KPIs and reports, read from the store only (decisions, system_state, verdicts,
// metric_windows, compare_windows): the current migration attempt, its match rate, latency and throughput.
import { comparedCount, matchRate as matchRateOf } from '../compare/match-rate.js'
import type { Config } from '../config/schema.js'
import { comparisonTotals } from '../store/comparisons.js'
import { armTotals, windowTotals } from '../store/metric-windows.js'
import type { Store } from '../store/open.js'
import {
  decisionHistory,
  firstStarts,
  listStates,
  type DecisionSummary,
  type SystemState,
} from '../store/system-state.js'
import { ACTIVE_STAGES, RESTING_STAGES, type Stage } from '../domain/stages.js'
import { verdictsBetween } from '../store/verdicts.js'

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
  /**
   * matches / (matches + mismatches) over the attempt; from the last verdict's evidence when no comparison windows
   * exist.
   */
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

/** Facts for every configured system, in config order. */
export async function systemFacts(config: Config, store: Store, now: number): Promise<SystemFacts[]> {
  const names = config.systems.map((s) => s.name)
  if (names.length === 0) return []
  const [states, decisions] = await Promise.all([listStates(store), decisionHistory(store, names)])
  const stateOf = new Map(states.map((s) => [s.system, s]))
  const byName = new Map<string, DecisionSummary[]>()
  for (const d of decisions) {
    const list = byName.get(d.system) ?? []
    list.push(d)
    byName.set(d.system, list)
  }
  return Promise.all(names.map((name) => factsOf(store, name, stateOf.get(name), byName.get(name) ?? [], now)))
}

/** Earliest move of any system out of pending: when the program started. */
export async function programStartedAt(config: Config, store: Store): Promise<number | null> {
  const starts = [
    ...(
      await firstStarts(
        store,
        config.systems.map((s) => s.name),
      )
    ).values(),
  ]
  return starts.length === 0 ? null : Math.min(...starts)
}

async function factsOf(
  store: Store,
  system: string,
  state: SystemState | undefined,
  decisions: readonly DecisionSummary[],
  now: number,
): Promise<SystemFacts> {
  const stage: Stage = state?.stage ?? 'pending'
  const starts = decisions.filter((d) => RESTING_STAGES.includes(d.fromStage) && ACTIVE_STAGES.includes(d.toStage))
  const startedAt = starts.at(-1)?.at ?? state?.startedAt ?? null
  const after = decisions.filter((d) => startedAt !== null && d.at >= startedAt)
  const promotedAt =
    after.find((d) => d.toStage === 'promoted' && d.fromStage !== 'promoted')?.at ?? state?.promotedAt ?? null
  const completedAt =
    after.find((d) => d.toStage === 'completed' && d.fromStage !== 'completed')?.at ?? state?.completedAt ?? null
  const endingRollback = stage === 'rolled-back' ? after.find((d) => d.toStage === 'rolled-back')?.at : undefined
  const periodEnd = startedAt === null ? null : (promotedAt ?? endingRollback ?? now)

  const rollbacks = decisions
    .filter((d) => d.toStage === 'rolled-back' && d.fromStage !== 'rolled-back')
    .map((d) => ({ system, at: d.at, reason: d.reason, actor: d.actor, fromStage: d.fromStage, weight: d.weight }))

  const from = startedAt ?? 0
  const until = periodEnd ?? now
  const [counts, arms, verdictRows, downtime] = await Promise.all([
    comparisonTotals(store, system, from, until),
    armTotals(store, system, from, until),
    verdictsBetween(store, system, from, until),
    downtimeMinutes(store, system),
  ])

  const lastVerdict = verdictRows.at(-1)
  const matchRate =
    matchRateOf(counts) ?? (lastVerdict === undefined ? null : matchRateFromEvidence(lastVerdict.evidenceJson))

  const arm = (name: string) => arms.find((a) => a.arm === name)
  const legacy = arm('legacy')
  const candidate = arm('candidate')
  const ratio = (c: number, l: number) => (l > 0 && Number.isFinite(c / l) ? c / l - 1 : null)
  const meanLatency = (a: typeof legacy) =>
    a === undefined || a.latencyRequests === 0 ? null : a.latencyTotal / a.latencyRequests
  const successRate = (a: typeof legacy) => (a === undefined || a.requests === 0 ? null : a.successes / a.requests)
  const lc = meanLatency(candidate)
  const ll = meanLatency(legacy)
  const tc = successRate(candidate)
  const tl = successRate(legacy)

  const verdicts = { pass: 0, fail: 0, inconclusive: 0 }
  for (const v of verdictRows) verdicts[v.verdict] += 1

  return {
    system,
    stage,
    paused: state?.paused ?? false,
    weight: state?.weight ?? 0,
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
  const windows = await windowTotals(store, system)
  const ms = windows.filter((w) => w.requests > 0 && w.successes === 0).reduce((n, w) => n + (w.end - w.start), 0)
  return ms / 60_000
}

/** Verdict evidence is a list of rules ({ metric, value, ... }), possibly under `rules`; take matchRate's value. */
export function matchRateFromEvidence(text: string): number | null {
  try {
    const parsed = JSON.parse(text) as unknown
    const rules = Array.isArray(parsed) ? parsed : ((parsed as { rules?: unknown })?.rules ?? [])
    if (!Array.isArray(rules)) return null
    const rule = rules.find((r) => (r as { metric?: unknown })?.metric === 'matchRate') as
      { value?: unknown } | undefined
    return typeof rule?.value === 'number' ? rule.value : null
  } catch {
    return null
  }
}
