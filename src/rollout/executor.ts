// Carries out what the controller decided: persists the state change with its decision, publishes the
// routing table, runs confirm hooks and notifications, writes the failure report, verifies rollbacks.
import type { EventEmitter } from 'node:events'
import type { Verdict } from '../analysis/verdict.js'
import type { Config, SystemConfig } from '../config/schema.js'
import { TandemError, isTandemError } from '../errors.js'
import type { RoutingTable } from '../domain/routing-table.js'
import type { MetricsReader } from '../metrics/reader.js'
import type { LeaseFence } from '../store/lease.js'
import type { Store } from '../store/open.js'
import { getState, recordDecision } from '../store/system-state.js'
import type { Decision, NewDecision, StateChange, SystemState } from '../store/system-state.js'
import { checkMassFailure, verifyPendingRollback, type AfterRollbackContext } from './after-rollback.js'
import { gateRefused, type ControllerAction, type HoldKind } from './decide.js'
import { writeFailureReport } from './failure-report.js'
import { HealthMonitor } from './health.js'
import { gate, notify, type HookKind, type HookPayload } from './hooks.js'
import { liveMetrics } from './observe.js'
import { isActive } from '../domain/stages.js'
import { describeStep, ROLLED_BACK, routingOf } from './steps.js'

export interface ControllerEvents {
  verdict: [system: string, verdict: Verdict, state: SystemState]
  decision: [decision: Decision, state: SystemState]
  report: [system: string, file: string]
  error: [system: string, error: unknown]
}

export interface ExecutorOptions {
  config(): Config
  readonly store: Store
  readonly routing: RoutingTable
  readonly metrics: MetricsReader
  readonly failuresDir: string
  readonly healthChecks: boolean
  now(): number
  /** The controller lease's fence, carried by every decision the controller writes. */
  fence(): LeaseFence
  readonly events: EventEmitter<ControllerEvents>
}

type Change = { state: SystemState; decision: Decision }

export class Executor {
  readonly #o: ExecutorOptions
  readonly #after: AfterRollbackContext
  /** Health of both targets of every analysed system. */
  readonly health = new HealthMonitor()
  /** Why each system is held, as the last interval ended (status shows it; decide records new kinds). */
  readonly #holds = new Map<string, { reason: string; kind: HoldKind | null }>()

  constructor(options: ExecutorOptions) {
    this.#o = options
    this.#after = {
      config: options.config,
      store: options.store,
      metrics: options.metrics,
      failuresDir: options.failuresDir,
      healthChecks: options.healthChecks,
      now: options.now,
      fence: options.fence,
      announce: (system, kind, state, reason, decision) => {
        if (decision !== undefined) this.#o.events.emit('decision', decision, state)
        void notify(this.#o.config(), system, kind, this.payload(kind, state, reason, decision))
      },
      error: (system, error) => this.#o.events.emit('error', system, error),
    }
  }

  holdOf(name: string): { reason: string; kind: HoldKind | null } | undefined {
    return this.#holds.get(name)
  }

  hold(name: string, reason: string | null, kind: HoldKind | null = null): void {
    if (reason === null) this.#holds.delete(name)
    else this.#holds.set(name, { reason, kind })
  }

  /** The system is not analysed (idle, removed): stop probing it and forget its hold. */
  forget(name: string): void {
    this.health.unwatch(name)
    this.#holds.delete(name)
  }

  /** Publish a stored state to the routing table when it differs from what the gateway serves. */
  publish(state: SystemState): void {
    const current = this.#o.routing.get(state.system)
    const wanted = routingOf(state)
    const same =
      current.stage === wanted.stage &&
      current.weight === wanted.weight &&
      current.activeArm === wanted.activeArm &&
      current.paused === wanted.paused
    if (!same) this.#o.routing.set(state.system, wanted)
  }

  /** One rolled-back interval later, legacy's health and error rate verify the rollback (SPEC 5). */
  verifyRollback(system: SystemConfig, state: SystemState): Promise<boolean> {
    return verifyPendingRollback(this.#after, system, state)
  }

  /** Carry out what `decide` returned for this interval. */
  async apply(system: SystemConfig, state: SystemState, action: ControllerAction): Promise<void> {
    switch (action.type) {
      case 'rollback':
        await this.rollback(system, state, action.decision)
        return
      case 'hold':
        return this.#holdAndRecord(state, action.reason, action.kind, action.record, action.evidence)
      case 'move': {
        const promote = action.decision.action === 'promote'
        const why = promote ? 'promotion requested' : 'first traffic shift to the candidate'
        for (const kind of action.gates) {
          const ok = await gate(this.#o.config(), system, kind, this.payload(kind, state, why))
          if (!ok.ok) {
            const lastKind = this.#holds.get(system.name)?.kind ?? null
            const reason = gateRefused(kind, ok.detail)
            return this.#holdAndRecord(state, reason, 'hook', lastKind !== 'hook', action.decision.evidence)
          }
        }
        await this.transition(system, state, action.change, action.decision)
      }
    }
  }

  /** Every confirm hook in `gates` must accept an operator's action; a refusal is a coded error. */
  async requireGates(system: SystemConfig, state: SystemState, gates: readonly HookKind[], why: string): Promise<void> {
    for (const kind of gates) {
      const ok = await gate(this.#o.config(), system, kind, this.payload(kind, state, why))
      if (ok.ok) continue
      throw new TandemError('TANDEM_ERR_HOOK_REFUSED', { hook: kind, system: system.name, detail: ok.detail })
    }
  }

  /** Hold; write a `hold` decision (and tell the `event` hook) when `record` says a new kind began. */
  async #holdAndRecord(
    state: SystemState,
    reason: string | null,
    kind: HoldKind | null,
    record: boolean,
    evidence: unknown,
  ): Promise<void> {
    this.hold(state.system, reason, kind)
    if (!record || reason === null) return
    const decision: NewDecision = { action: 'hold', actor: 'controller', reason, evidence }
    const result = await recordDecision(
      this.#o.store,
      state.system,
      state.version,
      {},
      decision,
      this.#o.now(),
      this.#fence(decision),
    )
    this.#o.events.emit('decision', result.decision, result.state)
    const system = this.#system(state.system)
    if (system === undefined) return
    void notify(this.#o.config(), system, 'event', this.payload('event', result.state, reason, result.decision))
  }

  /** Persist a state change with its decision, then publish it and tell the hooks. */
  async transition(
    system: SystemConfig,
    state: SystemState,
    change: StateChange,
    decision: NewDecision,
  ): Promise<Change> {
    const fence = this.#fence(decision)
    const result = await recordDecision(
      this.#o.store,
      system.name,
      state.version,
      change,
      decision,
      this.#o.now(),
      fence,
    )
    this.publish(result.state)
    this.#holds.delete(system.name)
    this.#o.events.emit('decision', result.decision, result.state)
    this.#tell(system, result.state, result.decision)
    return result
  }

  /** Rollback: traffic to legacy first (at once), then the decision, then the failure report. */
  async rollback(system: SystemConfig, state: SystemState, decision: NewDecision): Promise<Change> {
    this.#o.routing.set(system.name, routingOf({ ...ROLLED_BACK, paused: false }))
    let current = state
    let result: Change | undefined
    // An operator racing the controller must not leave the routing and the store disagreeing.
    for (let attempt = 0; result === undefined; attempt++) {
      try {
        const change = { ...ROLLED_BACK, paused: false, stepStartedAt: this.#o.now() }
        const fence = this.#fence(decision)
        result = await recordDecision(
          this.#o.store,
          system.name,
          current.version,
          change,
          decision,
          this.#o.now(),
          fence,
        )
      } catch (error) {
        // A stale lease holder's rollback is refused: the routing goes back to what the store says.
        if (isTandemError(error) && error.code === 'TANDEM_ERR_LEASE_LOST') {
          this.publish(await getState(this.#o.store, system.name))
        }
        if (!isTandemError(error) || error.code !== 'TANDEM_ERR_STORE_CONFLICT' || attempt >= 3) throw error
        current = await getState(this.#o.store, system.name)
        if (!isActive(current.stage)) {
          this.publish(current)
          const detail = 'it is no longer active'
          const params = { action: 'rollback', system: system.name, stage: current.stage, detail }
          throw new TandemError('TANDEM_ERR_ACTION_INVALID', params)
        }
      }
    }
    this.forget(system.name)
    this.#o.events.emit('decision', result.decision, result.state)
    try {
      const file = await writeFailureReport(this.#o.failuresDir, this.#o.store, {
        system,
        at: result.decision.at,
        reason: decision.reason,
        before: current,
        evidence: decision.evidence ?? null,
        current: await liveMetrics(this.#o.metrics, system, current, this.#o.now()),
      })
      this.#o.events.emit('report', system.name, file)
    } catch (error) {
      this.#o.events.emit('error', system.name, error)
    }
    this.#tell(system, result.state, result.decision)
    await checkMassFailure(this.#after, system, result.state).catch((error: unknown) => {
      this.#o.events.emit('error', system.name, error)
    })
    return result
  }

  /** The controller's own decisions carry the lease's fence; an operator's action is not the controller's. */
  #fence(decision: NewDecision): LeaseFence | undefined {
    return decision.actor === 'controller' ? this.#o.fence() : undefined
  }

  #tell(system: SystemConfig, state: SystemState, decision: Decision): void {
    const kind: HookKind =
      decision.action === 'promote'
        ? 'promoted'
        : decision.action === 'rollback'
          ? 'rollback'
          : ['advance', 'start', 'retry'].includes(decision.action)
            ? 'step'
            : 'event'
    void notify(this.#o.config(), system, kind, this.payload(kind, state, decision.reason, decision))
  }

  payload(kind: HookKind, state: SystemState, reason: string, decision?: Decision): HookPayload {
    const steps = this.#system(state.system)?.rollout.steps ?? []
    const stepped = state.stepIndex >= 0 && (state.stage === 'shadow' || state.stage === 'canary')
    const where = stepped ? `, ${describeStep(steps, state.stepIndex)}` : ''
    const what = `${state.system} ${decision?.action ?? kind} -> ${state.stage}`
    const text = `tandem: ${what} (weight ${state.weight}%${where}): ${reason}`
    const at = new Date(this.#o.now()).toISOString()
    const { system, stage, weight, stepIndex } = state
    return { kind, system, stage, weight, stepIndex, reason, text, at, ...(decision ? { decision } : {}) }
  }

  #system(name: string): SystemConfig | undefined {
    return this.#o.config().systems.find((s) => s.name === name)
  }
}
