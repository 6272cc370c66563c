// The playbook part of the program report (SPEC 7): whether the program is halted and why, each KPI
// against its target, planned waves against actual, and the verification of every rollback.
import type { Config } from '../config/schema.js'
import { VERIFY_ACTIONS } from '../rollout/rollback-check.js'
import type { Store } from '../store/open.js'
import { getProgramState, type ProgramState } from '../store/program-state.js'
import { decisionHistory, firstStarts } from '../store/system-state.js'
import type { Kpis } from './kpis.js'
import type { SystemFacts } from './system-facts.js'
import { evaluateTargets, type TargetResult } from './targets.js'
import { wavePlans, type WavePlan } from './wave-plan.js'

export interface RollbackVerification {
  readonly result: 'rollback-verified' | 'rollback-failed'
  readonly reason: string
  readonly at: number
}

export interface PlaybookFacts {
  readonly program: ProgramState
  readonly targets: readonly TargetResult[]
  readonly wavePlans: readonly WavePlan[]
  /** Per system, its verification decisions in order (to pair with its rollbacks). */
  readonly verifications: ReadonlyMap<string, readonly RollbackVerification[]>
}

export async function playbookFacts(
  config: Config,
  store: Store,
  kpis: Kpis,
  facts: readonly SystemFacts[],
  now: number,
): Promise<PlaybookFacts> {
  const names = config.systems.map((s) => s.name)
  const [program, starts, checks] = await Promise.all([
    getProgramState(store),
    firstStarts(store, names),
    decisionHistory(store, names, VERIFY_ACTIONS),
  ])
  const verifications = new Map<string, RollbackVerification[]>()
  for (const c of checks) {
    const list = verifications.get(c.system) ?? []
    list.push({ result: c.action as RollbackVerification['result'], reason: c.reason, at: c.at })
    verifications.set(c.system, list)
  }
  return {
    program,
    targets: evaluateTargets(kpis, config.program.targets),
    wavePlans: wavePlans(config, facts, starts, kpis.migrationRate, now),
    verifications,
  }
}

/** The verification of a rollback at `at`: the first one of the system at or after it, before `next`. */
export function verificationOf(
  list: readonly RollbackVerification[] | undefined,
  at: number | null,
  next: number | null,
): RollbackVerification | null {
  if (list === undefined || at === null) return null
  return list.find((v) => v.at >= at && (next === null || v.at < next)) ?? null
}
