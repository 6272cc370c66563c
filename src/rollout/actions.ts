// Operator actions (SPEC 5): checks each against the stage machine and plans the state change and the
// decision to record. `start` goes through the program's start gate; `--force` overrides it, audited.
import type { Config, SystemConfig } from '../config/schema.js'
import { TandemError } from '../errors.js'
import { startGate as programStartGate, type GateResult } from '../program/gates.js'
import { runChecklist } from '../program/checklist.js'
import { assertNotHalted } from '../program/halt.js'
import type { Store } from '../store/open.js'
import type { NewDecision, StateChange, SystemState } from '../store/system-state.js'
import type { ActionOptions, OperatorAction } from './control.js'
import type { HookKind } from './hooks.js'
import { ACTION_STAGES, describeStep, placementOf, PROMOTED, ROLLED_BACK, servesCandidate } from './steps.js'

export type StartGate = (
  config: Config,
  store: Store,
  system: string,
  options: { force?: boolean },
) => Promise<GateResult>

/**
 * Actions a halted program refuses (SPEC 7): nothing starts or moves forward; pause, resume and rollback still work.
 */
const HALTED_REFUSES: readonly OperatorAction[] = ['start', 'retry', 'advance', 'promote', 'finalize']

export interface ActionPlan {
  readonly change: StateChange
  readonly decision: NewDecision
  /** Confirm hooks that must accept before the change is made. */
  readonly gates: readonly HookKind[]
}

export interface ActionContext {
  readonly config: Config
  readonly store: Store
  readonly system: SystemConfig
  readonly state: SystemState
  readonly action: OperatorAction
  readonly options: ActionOptions
  readonly now: number
  readonly startGate?: StartGate | undefined
}

export async function planAction(ctx: ActionContext): Promise<ActionPlan> {
  const { system, state, action, options, now } = ctx
  const steps = system.rollout.steps
  const invalid = (detail: string) =>
    new TandemError('TANDEM_ERR_ACTION_INVALID', { action, system: system.name, stage: state.stage, detail })
  if (!ACTION_STAGES[action].includes(state.stage)) {
    throw invalid(`${action} applies only to a system in ${ACTION_STAGES[action].join(' or ')}`)
  }
  if (HALTED_REFUSES.includes(action)) await assertNotHalted(ctx.store, action, system.name)
  const by = (what: string) => options.reason ?? `${what} by ${options.actor}`
  const decision = (reason: string, evidence?: unknown): NewDecision => ({
    action,
    actor: options.actor,
    reason,
    ...(evidence === undefined ? {} : { evidence }),
  })
  const firstStep = (): StateChange => ({
    ...placementOf(steps[0]!),
    stepIndex: 0,
    stepStartedAt: now,
    paused: false,
    startedAt: now,
    promotedAt: null,
    completedAt: null,
  })
  // A first step that already sends users to the candidate (direct, blue-green without shadow) is guarded.
  const firstGates: HookKind[] = servesCandidate(placementOf(steps[0]!)) ? ['confirm-rollout', 'pre-rollout'] : []

  switch (action) {
    case 'start': {
      const gateFn = ctx.startGate ?? programStartGate
      const result = await gateFn(ctx.config, ctx.store, system.name, { force: options.force === true })
      if (!result.allowed)
        throw new TandemError(
          'TANDEM_ERR_START_BLOCKED',
          { system: system.name, reasons: result.reasons.join('; ') },
          { details: result },
        )
      const forced = options.force === true && result.reasons.length > 0
      const reason = forced
        ? `started with --force by ${options.actor}, overriding: ${result.reasons.join('; ')}`
        : by('started')
      return {
        change: firstStep(),
        decision: decision(reason, {
          force: options.force === true,
          overridden: result.reasons,
          checks: result.checks,
        }),
        gates: firstGates,
      }
    }
    case 'retry':
      return { change: firstStep(), decision: decision(by('retried')), gates: firstGates }
    case 'advance': {
      if (state.stepIndex >= steps.length - 1)
        return {
          change: { ...PROMOTED, promotedAt: now, stepStartedAt: now },
          decision: { ...decision(by('promoted on advance')), action: 'promote' },
          gates: ['confirm-promotion'],
        }
      const next = placementOf(steps[state.stepIndex + 1]!)
      const gates: HookKind[] =
        !servesCandidate(state) && servesCandidate(next) ? ['confirm-rollout', 'pre-rollout'] : []
      return {
        change: { ...next, stepIndex: state.stepIndex + 1, stepStartedAt: now },
        decision: decision(by(`advanced to ${describeStep(steps, state.stepIndex + 1)}`)),
        gates,
      }
    }
    case 'promote':
      return {
        change: { ...PROMOTED, promotedAt: now, stepStartedAt: now, paused: false },
        decision: decision(by('promoted')),
        gates: [],
      }
    case 'pause':
      if (state.paused) throw invalid('it is already paused')
      return { change: { paused: true }, decision: decision(by('paused')), gates: [] }
    case 'resume':
      if (!state.paused) throw invalid('it is not paused')
      return { change: { paused: false }, decision: decision(by('resumed')), gates: [] }
    case 'rollback':
      return {
        change: { ...ROLLED_BACK, paused: false, stepStartedAt: now },
        decision: decision(by('rolled back')),
        gates: [],
      }
    case 'finalize': {
      // The post-migration checklist must pass before legacy is retired; --force overrides, audited.
      const checks = await runChecklist(ctx.config, ctx.store, system.name, { post: true })
      const failed = checks.filter((c) => !c.ok)
      if (failed.length > 0 && options.force !== true) {
        const detail = failed
          .map(
            (c) =>
              `${c.check}: ${c.output.split('\n').find((l) => l.trim() !== '' && !l.startsWith('$ ')) ?? c.output}`,
          )
          .join('; ')
        throw new TandemError(
          'TANDEM_ERR_FINALIZE_BLOCKED',
          { system: system.name, checks: failed.map((c) => c.check).join(', '), detail },
          { details: { checks } },
        )
      }
      const overridden = failed.map((c) => `post-migration check ${c.check} failed`)
      const reason =
        overridden.length > 0
          ? `finalized with --force by ${options.actor}, overriding: ${overridden.join('; ')}; legacy retired`
          : by('finalized; legacy retired')
      return {
        change: { completedAt: now, stage: 'completed', paused: false },
        decision: decision(reason, { force: options.force === true, overridden, checks }),
        gates: [],
      }
    }
  }
}
