// The strategy's KPI targets (SPEC 7, `program.targets`): each KPI with its target and whether it is
// met. Pure: the KPIs come from kpis.ts, the rules from the frozen config. `tandem report --check`
// fails when one is missed.
import type { ProgramConfig } from '../config/schema.js'
import { compare } from '../config/units.js'
import type { Kpis } from './kpis.js'

export type TargetKey = keyof ProgramConfig['targets']

export interface TargetResult {
  readonly kpi: TargetKey
  readonly value: number
  /** The rule as written, e.g. `>= 0.8`. */
  readonly target: string
  readonly met: boolean
}

/** In the order of the strategy's list; targets set to `off` are left out. */
export const TARGET_KEYS: readonly TargetKey[] = [
  'validationSuccessRate',
  'rollbackCount',
  'failedMigrations',
  'avgThroughputImprovement',
  'avgLatencyChange',
  'avgMigrationTimeHours',
  'totalDowntimeMinutes',
]

export function evaluateTargets(kpis: Kpis, targets: ProgramConfig['targets']): TargetResult[] {
  const out: TargetResult[] = []
  for (const kpi of TARGET_KEYS) {
    const rule = targets[kpi]
    if (rule === null) continue
    // A relative rule ("2x") has no baseline here: it is judged against 1, i.e. as written.
    out.push({ kpi, value: kpis[kpi], target: rule.source, met: compare(kpis[kpi], rule.op, rule.value) })
  }
  return out
}

export function missedTargets(results: readonly TargetResult[]): TargetResult[] {
  return results.filter((r) => !r.met)
}
