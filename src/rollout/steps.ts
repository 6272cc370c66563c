// The stage machine of SPEC 1 as pure functions: what routing each step publishes, how long it lasts,
// and which operator actions each stage allows.
import type { RolloutStep } from '../config/schema.js'
import type { SystemRouting } from '../domain/routing-table.js'
import type { SystemState } from '../store/system-state.js'
import { ACTIVE_STAGES, TRIAL_STAGES, type Stage } from '../domain/stages.js'
import type { OperatorAction } from './control.js'

type Placement = Pick<SystemState, 'stage' | 'weight' | 'activeArm'>

/** Where traffic goes while a step runs. A blue-green `switch` sends everything to the candidate colour. */
export function placementOf(step: RolloutStep): Placement {
  if (step.kind === 'shadow') return { stage: 'shadow', weight: 0, activeArm: 'legacy' }
  if (step.kind === 'weight') return { stage: 'canary', weight: step.weight, activeArm: 'legacy' }
  return { stage: 'canary', weight: 100, activeArm: 'candidate' }
}

export const PROMOTED: Placement = { stage: 'promoted', weight: 100, activeArm: 'candidate' }
export const ROLLED_BACK: Placement = { stage: 'rolled-back', weight: 0, activeArm: 'legacy' }

/** How long a step lasts before the controller may leave it (shadow duration or pause). */
export function stepDuration(step: RolloutStep): number {
  return step.kind === 'shadow' ? step.durationMs : step.pauseMs
}

/** Does this step send real users to the candidate? Confirm-rollout and pre-rollout guard the first one. */
export function servesCandidate(p: Placement): boolean {
  return p.activeArm === 'candidate' || p.weight > 0
}

export function describeStep(steps: readonly RolloutStep[], index: number): string {
  const step = steps[index]
  if (step === undefined) return 'no step'
  const what =
    step.kind === 'shadow' ? 'shadow' : step.kind === 'weight' ? `weight ${step.weight}%` : 'blue-green switch'
  return `step ${index + 1} of ${steps.length} (${what})`
}

export function routingOf(state: Pick<SystemState, 'stage' | 'weight' | 'activeArm' | 'paused'>): SystemRouting {
  return { stage: state.stage, weight: state.weight, activeArm: state.activeArm, paused: state.paused }
}

/** Stages from which each operator action is allowed (paused-ness is checked separately). */
export const ACTION_STAGES: Record<OperatorAction, readonly Stage[]> = {
  start: ['pending'],
  advance: TRIAL_STAGES,
  promote: TRIAL_STAGES,
  pause: ACTIVE_STAGES,
  resume: ACTIVE_STAGES,
  rollback: ACTIVE_STAGES,
  retry: ['rolled-back'],
  finalize: ['promoted'],
}
