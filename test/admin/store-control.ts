// A small RolloutControl over the real store for admin tests, used while the rollout controller is not
// part of the tree: operator actions move the stage through recordDecision like the controller does.
import { TandemError } from '../../src/errors.js'
import type { ActionOptions, OperatorAction, RolloutControl, SystemStatus } from '../../src/rollout/control.js'
import type { Store } from '../../src/store/open.js'
import { getState, recordDecision, type StateChange, type SystemState } from '../../src/store/system-state.js'

const ACTIVE = ['shadow', 'canary']

function transition(state: SystemState, action: OperatorAction): StateChange | string {
  switch (action) {
    case 'start':
      return state.stage === 'pending' ? { stage: 'shadow', stepIndex: 0, weight: 0, startedAt: Date.now() } : 'only a pending system can start'
    case 'advance':
      return ACTIVE.includes(state.stage) ? { stage: 'canary', stepIndex: state.stepIndex + 1, weight: Math.min(100, state.weight + 25) } : 'not active'
    case 'promote':
      return ACTIVE.includes(state.stage) ? { stage: 'promoted', weight: 100, promotedAt: Date.now() } : 'not active'
    case 'pause':
      return state.paused ? 'already paused' : { paused: true }
    case 'resume':
      return state.paused ? { paused: false } : 'not paused'
    case 'rollback':
      return [...ACTIVE, 'promoted'].includes(state.stage) ? { stage: 'rolled-back', weight: 0 } : 'nothing to roll back'
    case 'retry':
      return state.stage === 'rolled-back' ? { stage: 'shadow', stepIndex: 0, weight: 0 } : 'only a rolled-back system can retry'
    case 'finalize':
      return state.stage === 'promoted' ? { stage: 'completed', completedAt: Date.now() } : 'only a promoted system can finalize'
  }
}

export class StoreControl implements RolloutControl {
  constructor(readonly store: Store) {}

  async act(system: string, action: OperatorAction, options: ActionOptions) {
    const state = await getState(this.store, system)
    const change = transition(state, action)
    if (typeof change === 'string') throw new TandemError('TANDEM_ERR_ACTION_INVALID', { action, system, stage: state.stage, detail: change })
    return recordDecision(this.store, system, state.version, change, {
      action,
      actor: options.actor,
      reason: options.reason ?? `operator ${action}`,
      evidence: options.force ? { force: true } : undefined,
    })
  }

  async status(system: string): Promise<SystemStatus> {
    const state = await getState(this.store, system)
    return { state, holdReason: state.paused ? 'paused by an operator' : null }
  }
}
