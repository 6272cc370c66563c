// What the admin API (and through it the CLI) may ask of the rollout controller.
import type { Decision, SystemState } from '../store/system-state.js'

export const OPERATOR_ACTIONS = [
  'start',
  'advance',
  'promote',
  'pause',
  'resume',
  'rollback',
  'retry',
  'finalize',
] as const
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number]

export interface ActionOptions {
  /** Who asked: a token name, `cli`, or `controller`. */
  readonly actor: string
  /** `start --force`: skip the checklist and wave gate (audited). */
  readonly force?: boolean
  readonly reason?: string
}

export interface SystemStatus {
  readonly state: SystemState
  /** Human sentence saying why the controller is not advancing, when it is not. */
  readonly holdReason: string | null
}

export interface RolloutControl {
  /** Perform an operator action; throws TandemError(TANDEM_ERR_ACTION_INVALID) when not allowed now. */
  act(
    system: string,
    action: OperatorAction,
    options: ActionOptions,
  ): Promise<{ state: SystemState; decision: Decision }>
  status(system: string): Promise<SystemStatus>
}
