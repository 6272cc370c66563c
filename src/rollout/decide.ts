// Every rule of SPEC 5 (and SPEC 7's halt) as one pure function: given a system's state, this interval's
// verdict, its steps and the time, what the controller does. No store, timer, hook or network here.
import type { Verdict } from '../analysis/verdict.js'
import type { RolloutStep } from '../config/schema.js'
import type { NewDecision, StateChange, SystemState } from '../store/system-state.js'
import type { HookKind } from './hooks.js'
import { isActive } from '../domain/stages.js'
import { describeStep, placementOf, PROMOTED, servesCandidate, stepDuration } from './steps.js'

/** Hold kinds worth a `hold` decision in the audit trail (recorded once each time one begins). */
export type HoldKind = 'inconclusive' | 'failing' | 'hook' | 'promote-rule' | 'confirm' | 'halted'

/** What the controller knows besides state, verdict, steps and time; the executor gathers it. */
export interface DecideContext {
  /** `analysis.consecutiveFailures`: failing verdicts in a row that roll back. */
  readonly consecutiveFailures: number
  /** Failing verdicts in a row in this run of the rollout, this interval's included. */
  readonly failing: number
  /** Why the program is halted (SPEC 7), or null when it is not. */
  readonly halt: string | null
  /** Who paused the system (asked only when it is paused). */
  readonly pausedBy?: string | null
  /** The kind of hold the last interval ended in: a new kind is recorded, a continuing one is not. */
  readonly lastHold?: HoldKind | null
}

/** The controller's answer for one interval. */
export type ControllerAction =
  /** All traffic to legacy at once, then the decision, the failure report and the mass-failure check. */
  | { readonly type: 'rollback'; readonly decision: NewDecision }
  /** Stay; `reason` null means nothing holds the system (promoted and passing). */
  | {
      readonly type: 'hold'
      readonly reason: string | null
      readonly kind: HoldKind | null
      /** Write a `hold` decision: this kind of hold begins now. */
      readonly record: boolean
      readonly evidence: unknown
    }
  /** Move (advance or promote) once every hook in `gates` accepts; a refusal holds with kind `hook`. */
  | {
      readonly type: 'move'
      readonly change: StateChange
      readonly decision: NewDecision
      readonly gates: readonly HookKind[]
    }

/** Does the controller judge this system at all? Only active HTTP systems are analysed (SPEC 5). */
export function analyses(stage: SystemState['stage'], kind: string, verified = false): boolean {
  // HTTP systems are judged from the gateway's metrics, code systems from their adapters' (SPEC 12),
  // datastore and events systems with their block by continuous verification (SPEC 13).
  return isActive(stage) && (kind === 'http' || kind === 'code' || verified)
}

export function decide(
  state: SystemState,
  verdict: Verdict,
  steps: readonly RolloutStep[],
  now: number,
  ctx: DecideContext,
): ControllerAction {
  const evidence = verdictEvidence(verdict)
  const hold = (reason: string | null, kind: HoldKind | null): ControllerAction => ({
    type: 'hold',
    reason,
    kind,
    record: kind !== null && kind !== (ctx.lastHold ?? null),
    evidence,
  })
  // Rollback triggers come first, in every active stage: also while paused, halted or waiting for a gate.
  if (verdict.verdict === 'fail') {
    const needed = ctx.consecutiveFailures
    if (ctx.failing >= needed) {
      const decision: NewDecision = { action: 'rollback', actor: 'controller', reason: verdict.reason, evidence }
      return { type: 'rollback', decision }
    }
    return hold(`failing verdict ${ctx.failing} of ${needed}: ${verdict.reason}`, 'failing')
  }
  if (state.stage === 'promoted') return hold(null, null)
  if (state.paused) return hold(`paused by ${ctx.pausedBy ?? 'an operator'}`, null)
  // A halted program (mass failure, or `tandem program halt`) keeps every system at its current step.
  if (ctx.halt !== null) return hold(`program halted: ${ctx.halt}; run \`tandem program resume\``, 'halted')

  const step = steps[state.stepIndex]
  if (step === undefined) {
    const fix = 'run `tandem advance` or `tandem rollback`'
    return hold(`step ${state.stepIndex} is not in the configured steps; ${fix}`, null)
  }
  const left = stepDuration(step) - (now - (state.stepStartedAt ?? now))
  const here = describeStep(steps, state.stepIndex)
  if (left > 0) return hold(`${here}: ${Math.ceil(left / 1000)}s left in this step`, null)
  // Inconclusive (too few samples, or no value for a custom metric) holds and never fails.
  if (verdict.verdict === 'inconclusive') return hold(verdict.reason, 'inconclusive')
  if (step.confirm) return hold(`${here} waits for \`tandem advance\``, 'confirm')

  const passed = `${here} passed: ${verdict.reason}`
  if (state.stepIndex === steps.length - 1) {
    if (!verdict.promoteOk) {
      const unmet = verdict.rules
        .filter((r) => r.rule.startsWith('promote.') && r.result === 'fail')
        .map((r) => `${r.metric} ${fmt(r.value)} not ${r.threshold}`)
      return hold(`promote rule not met: ${unmet.join(', ')}`, 'promote-rule')
    }
    return {
      type: 'move',
      change: { ...PROMOTED, promotedAt: now, stepStartedAt: now },
      decision: { action: 'promote', actor: 'controller', reason: passed, evidence },
      gates: ['confirm-promotion'],
    }
  }
  const next = placementOf(steps[state.stepIndex + 1]!)
  // The first step that sends real users to the candidate is guarded by the confirm and pre-rollout hooks.
  const gates: HookKind[] = !servesCandidate(state) && servesCandidate(next) ? ['confirm-rollout', 'pre-rollout'] : []
  return {
    type: 'move',
    change: { ...next, stepIndex: state.stepIndex + 1, stepStartedAt: now },
    decision: { action: 'advance', actor: 'controller', reason: passed, evidence },
    gates,
  }
}

/** The hold reason when a gate refuses a move. */
export function gateRefused(kind: HookKind, detail: string): string {
  return `waiting for ${kind} hook: ${detail}`
}

/** What a verdict leaves as the evidence of a decision. */
export function verdictEvidence(v: Verdict): unknown {
  const { verdict, reason, judge, score, window, samples, rules, findings } = v
  const base = { verdict, reason, judge, score, window, samples, rules }
  return findings === undefined ? base : { ...base, findings }
}

const fmt = (n: number | null): string => (n === null ? 'n/a' : Number.isInteger(n) ? String(n) : n.toPrecision(3))
