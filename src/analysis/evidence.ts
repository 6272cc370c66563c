// The evidence every verdict keeps per rule (SPEC 5), shared by the built-in rules (verdict.ts) and the
// custom Prometheus ones (prometheus-rule.ts).
import type { Arm } from '../domain/stages.js'

export type RuleResult = 'pass' | 'fail' | 'inconclusive'
export type VerdictResult = 'pass' | 'fail' | 'inconclusive'

/** The evidence of one rule in one verdict: enough to reproduce the decision by hand. */
export interface RuleEvidence {
  /** `rollback.errorRate`, `promote.latencyChange`, `judge.latency` ... */
  readonly rule: string
  readonly metric: string
  readonly value: number | null
  /** The legacy value a relative (`x`) threshold multiplies; null for absolute rules. */
  readonly baseline: number | null
  /** The number `value` was compared with. */
  readonly limit: number | null
  readonly threshold: string
  readonly samples: { readonly legacy: number; readonly candidate: number }
  readonly window: { readonly start: number; readonly end: number }
  /** For a rollback rule `fail` means the trigger fired; for a promote rule, that the rule is not met. */
  readonly result: RuleResult
  readonly dryRun: boolean
  readonly note?: string
  /** False when the rule was measured but deliberately not judged (relative latency below analysis.latencyFloor). */
  readonly judged?: false
  /** Custom metrics (analysis.metrics): the Prometheus URL (redacted), the query as run and the value per arm. */
  readonly source?: string
  readonly query?: { readonly legacy: string; readonly candidate: string }
  readonly values?: { readonly legacy: number | null; readonly candidate: number | null }
  /** Why an arm has no value: the coded error (unreachable, query refused, no value) and its message. */
  readonly errors?: ReadonlyArray<{ readonly arm: Arm; readonly code: string; readonly message: string }>
}
