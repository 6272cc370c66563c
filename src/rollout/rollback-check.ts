// Verified rollback (SPEC 5, the strategy's rollback procedure): over the interval after a rollback,
// legacy's health check and error rate decide `rollback-verified` or `rollback-failed`. The judgement
// is a pure function; reading the store, the metrics and the health endpoint lives beside it.
import type { SystemConfig } from '../config/schema.js'
import { compare, type Threshold } from '../config/units.js'
import type { ArmWindow } from '../metrics/reader.js'
import type { Store } from '../store/open.js'
import { latestDecisions } from '../store/system-state.js'

export const VERIFY_ACTIONS = ['rollback-verified', 'rollback-failed'] as const
export type VerifyAction = (typeof VERIFY_ACTIONS)[number]

/** Rollbacks older than this are not verified any more: the metrics reader keeps 15 minutes. */
export const VERIFY_HORIZON_MS = 14 * 60_000

export interface RollbackEvidence {
  readonly window: { readonly start: number; readonly end: number }
  /** The health check of legacy at the end of the interval; null when health checks are off. */
  readonly health: { readonly ok: boolean; readonly detail: string } | null
  readonly legacy: { readonly requests: number; readonly errors: number; readonly errorRate: number | null }
  /** The rollback trigger of the error rate, applied to legacy; null when it is off. */
  readonly errorRateRule: string | null
  readonly minSamples: number
}

export interface RollbackJudgement {
  readonly action: VerifyAction
  readonly reason: string
  readonly evidence: RollbackEvidence & { readonly failures: readonly string[] }
}

/** The pure rule: legacy must answer its health check and keep its error rate within the rollback trigger. */
export function judgeRollback(input: {
  window: { start: number; end: number }
  health: { ok: boolean; detail: string } | null
  legacy: Pick<ArmWindow, 'requests' | 'errors'>
  errorRate: Threshold | null
  minSamples: number
}): RollbackJudgement {
  const { requests, errors } = input.legacy
  const errorRate = requests > 0 ? errors / requests : null
  const failures: string[] = []
  if (input.health !== null && !input.health.ok) failures.push(`legacy health check failed: ${input.health.detail}`)
  const judged = input.errorRate !== null && errorRate !== null && requests >= input.minSamples
  if (judged && compare(errorRate, input.errorRate!.op, input.errorRate!.value)) {
    failures.push(
      `legacy errorRate ${errorRate.toPrecision(3)} ${input.errorRate!.source} (${errors} of ${requests} requests)`,
    )
  }
  const evidence = {
    window: input.window,
    health: input.health,
    legacy: { requests, errors, errorRate },
    errorRateRule: input.errorRate?.source ?? null,
    minSamples: input.minSamples,
    failures,
  }
  if (failures.length > 0) {
    return {
      action: 'rollback-failed',
      reason: `rollback failed: ${failures.join('; ')}; legacy is not healthy either: start the emergency procedure`,
      evidence,
    }
  }
  const parts = [
    input.health === null ? null : `legacy health check passed`,
    judged
      ? `legacy errorRate ${errorRate!.toPrecision(3)} over ${requests} requests`
      : `legacy errorRate not judged (${requests} of ${input.minSamples} samples)`,
  ]
  return {
    action: 'rollback-verified',
    reason: `rollback verified: ${parts.filter((p) => p !== null).join(', ')}`,
    evidence,
  }
}

/** The last rollback of a system when no verification followed it yet, else null. */
export async function unverifiedRollback(store: Store, system: string): Promise<{ at: number; seq: number } | null> {
  const [last] = await latestDecisions(store, system, ['rollback', ...VERIFY_ACTIONS], 1)
  return last?.action === 'rollback' ? { at: last.at, seq: last.seq } : null
}

/** When the verification of a rollback at `at` is due: one analysis interval after it. */
export function verificationDue(system: SystemConfig, rollbackAt: number, now: number): 'wait' | 'due' | 'too-old' {
  if (now - rollbackAt > VERIFY_HORIZON_MS) return 'too-old'
  return now - rollbackAt >= system.analysis.interval ? 'due' : 'wait'
}

/** The metrics window of the verification: from the second the rollback happened in, to now. */
export function verificationWindow(rollbackAt: number, now: number): { start: number; end: number } {
  return { start: Math.min(now, Math.floor(rollbackAt / 1000) * 1000), end: now }
}
