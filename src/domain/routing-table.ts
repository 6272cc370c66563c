// The routing table: what the controller publishes and the gateway reads on every request. It is the
// only link from the control plane (rollout) to the data plane (gateway).
import { EventEmitter } from 'node:events'
import type { Arm, Stage } from './stages.js'

export interface SystemRouting {
  readonly stage: Stage
  /** Percent of sticky buckets sent to the candidate in canary, 0..100 in 0.01 steps. */
  readonly weight: number
  /** Blue-green: the colour that serves all traffic once switched. */
  readonly activeArm: Arm
  readonly paused: boolean
}

export const PENDING: SystemRouting = Object.freeze({ stage: 'pending', weight: 0, activeArm: 'legacy', paused: false })

export class RoutingTable extends EventEmitter<{ change: [system: string, routing: SystemRouting] }> {
  readonly #entries = new Map<string, SystemRouting>()

  get(system: string): SystemRouting {
    return this.#entries.get(system) ?? PENDING
  }

  set(system: string, routing: SystemRouting): void {
    this.#entries.set(system, Object.freeze({ ...routing }))
    this.emit('change', system, this.get(system))
  }

  snapshot(): Record<string, SystemRouting> {
    return Object.fromEntries(this.#entries)
  }
}
