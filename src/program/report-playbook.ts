// The playbook part of the program report (SPEC 7): whether the program is halted and why, each KPI
// against its target, planned waves against actual, and the verification of every rollback.
import type { Config } from '../config/schema.js'
import { VERIFY_ACTIONS } from '../rollout/rollback-check.js'
import type { Store } from '../store/open.js'
import { getProgramState, type ProgramState } from '../store/program-state.js'
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

export async function playbookFacts(config: Config, store: Store, kpis: Kpis, facts: readonly SystemFacts[], now: number): Promise<PlaybookFacts> {
  const names = config.systems.map((s) => s.name)
  const [program, starts, checks] = await Promise.all([
    getProgramState(store),
    names.length === 0
      ? Promise.resolve([])
      : store.db
          .selectFrom('decisions')
          .select((eb) => ['system', eb.fn.min('at').as('at')])
          .where('system', 'in', names)
          .where('from_stage', '=', 'pending')
          .where('to_stage', '!=', 'pending')
          .groupBy('system')
          .execute(),
    names.length === 0
      ? Promise.resolve([])
      : store.db.selectFrom('decisions').select(['system', 'action', 'reason', 'at']).where('system', 'in', names).where('action', 'in', [...VERIFY_ACTIONS]).orderBy('id').execute(),
  ])
  const firstStarts = new Map(starts.map((r) => [r.system, Number(r.at)]))
  const verifications = new Map<string, RollbackVerification[]>()
  for (const c of checks) {
    const list = verifications.get(c.system) ?? []
    list.push({ result: c.action as RollbackVerification['result'], reason: c.reason, at: Number(c.at) })
    verifications.set(c.system, list)
  }
  return {
    program,
    targets: evaluateTargets(kpis, config.program.targets),
    wavePlans: wavePlans(config, facts, firstStarts, kpis.migrationRate, now),
    verifications,
  }
}

/** The verification of a rollback at `at`: the first one of the system at or after it, before `next`. */
export function verificationOf(list: readonly RollbackVerification[] | undefined, at: number | null, next: number | null): RollbackVerification | null {
  if (list === undefined || at === null) return null
  return list.find((v) => v.at >= at && (next === null || v.at < next)) ?? null
}
