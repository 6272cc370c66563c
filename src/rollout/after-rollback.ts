// What follows a rollback (SPEC 5 and 7): its verification one interval later (legacy healthy:
// `rollback-verified`; not: `rollback-failed`, the `emergency` hook, no traffic moved), and the
// program's mass-failure halt when too many systems of one wave have rolled back.
import type { Config, SystemConfig } from '../config/schema.js'
import { isTandemError } from '../errors.js'
import type { MetricsReader } from '../metrics/reader.js'
import { haltAfterRollback, type ProgramState } from '../program/halt.js'
import type { LeaseFence } from '../store/lease.js'
import type { Store } from '../store/open.js'
import { recordDecision, type Decision, type SystemState } from '../store/system-state.js'
import { addVerification } from './failure-report.js'
import { probeArm } from './health.js'
import type { HookKind } from './hooks.js'
import { judgeRollback, unverifiedRollback, verificationDue, verificationWindow } from './rollback-check.js'

export interface AfterRollbackContext {
  config(): Config
  readonly store: Store
  readonly metrics: MetricsReader
  readonly failuresDir: string
  readonly healthChecks: boolean
  now(): number
  /** The controller lease's fence, carried by every decision written here. */
  fence?(): LeaseFence
  /** Tell listeners and hooks: the decision (if any) and the hook kind to fire with `reason`. */
  announce(system: SystemConfig, kind: HookKind, state: SystemState, reason: string, decision?: Decision): void
  error(system: string, error: unknown): void
}

/** Verify the last rollback of a rolled-back system once its interval has passed; true when it decided. */
export async function verifyPendingRollback(
  ctx: AfterRollbackContext,
  system: SystemConfig,
  state: SystemState,
): Promise<boolean> {
  const pending = await unverifiedRollback(ctx.store, system.name)
  if (pending === null) return false
  const now = ctx.now()
  if (verificationDue(system, pending.at, now) !== 'due') return false
  const window = verificationWindow(pending.at, now)
  // A code system has no target to probe: its adapters' legacy error rate alone verifies the rollback.
  const health = ctx.healthChecks && system.legacy !== undefined ? await probeArm(system, 'legacy') : null
  const legacy =
    window.start < window.end
      ? (await ctx.metrics.window(system.name, window.start, window.end)).legacy
      : { requests: 0, errors: 0 }
  const judgement = judgeRollback({
    window,
    health,
    legacy,
    errorRate: system.analysis.rollback.errorRate,
    minSamples: system.analysis.minSamples,
  })
  let result: { state: SystemState; decision: Decision }
  try {
    // No state change: a failed verification moves no traffic; legacy stays, the emergency procedure starts.
    result = await recordDecision(
      ctx.store,
      system.name,
      state.version,
      {},
      {
        action: judgement.action,
        actor: 'controller',
        reason: judgement.reason,
        evidence: { rollbackSeq: pending.seq, ...judgement.evidence },
      },
      ctx.now(),
      ctx.fence?.(),
    )
  } catch (error) {
    // An operator (retry) or another instance wrote first: judge again next interval, if still due.
    if (isTandemError(error) && error.code === 'TANDEM_ERR_STORE_CONFLICT') return false
    throw error
  }
  ctx.announce(
    system,
    judgement.action === 'rollback-failed' ? 'emergency' : 'event',
    result.state,
    judgement.reason,
    result.decision,
  )
  const verification = {
    result: judgement.action,
    reason: judgement.reason,
    at: result.decision.at,
    evidence: judgement.evidence,
  }
  await addVerification(ctx.failuresDir, system.name, pending.at, verification).catch((error: unknown) =>
    ctx.error(system.name, error),
  )
  return true
}

/** After a rollback decision: halt the program when the system's wave reached `haltAfterRollbacks`. */
export async function checkMassFailure(
  ctx: AfterRollbackContext,
  system: SystemConfig,
  state: SystemState,
): Promise<ProgramState | null> {
  const halted = await haltAfterRollback(ctx.config(), ctx.store, system.name, ctx.now())
  if (halted !== null)
    ctx.announce(
      system,
      'event',
      state,
      `program halted: ${halted.reason}; run \`tandem program resume\` once the cause is fixed`,
    )
  return halted
}
