// The rollout controller (SPEC 5): every analysis.interval, for every active system, a verdict from the
// metrics, then advance, hold or roll back. A thin composition of its three parts: the scheduler (when),
// decide (what, pure) and the executor (doing it). It owns the routing table the gateway reads.
import { EventEmitter } from 'node:events'
import { resolve } from 'node:path'
import type { ComparisonReader } from '../compare/sink.js'
import type { Config, SystemConfig } from '../config/schema.js'
import { TandemError } from '../errors.js'
import type { RoutingTable } from '../domain/routing-table.js'
import type { MetricsReader } from '../metrics/reader.js'
import { describeHalt } from '../program/halt.js'
import { controllerLease, type Lease } from '../store/lease.js'
import { consecutiveFailures, saveVerdict } from '../store/verdicts.js'
import type { Store } from '../store/open.js'
import { getProgramState } from '../store/program-state.js'
import {
  getState,
  lastActor,
  type Decision,
  type NewDecision,
  type StateChange,
  type SystemState,
} from '../store/system-state.js'
import { planAction, type StartGate } from './actions.js'
import type { ActionOptions, OperatorAction, RolloutControl, SystemStatus } from './control.js'
import { readCustomMetrics } from '../analysis/prometheus-rule.js'
import { analyses, decide } from './decide.js'
import { Executor, type ControllerEvents } from './executor.js'
import type { HealthMonitor } from './health.js'
import { holdWhileIdle } from './idle-reasons.js'
import { MetricWindows, observe, settleLag } from './observe.js'
import { Scheduler } from './scheduler.js'
import { isMove, judgeMove } from '../moves/judge.js'
import { isActive } from '../domain/stages.js'
import { routingOf } from './steps.js'

export type { ControllerEvents }

/** A state change and the decision recorded with it. */
type Change = { state: SystemState; decision: Decision }

export interface ControllerOptions {
  config(): Config
  readonly store: Store
  readonly routing: RoutingTable
  readonly metrics: MetricsReader
  readonly comparisons?: ComparisonReader
  /** The program's start gate (wave open, checklist); defaults to src/program/gates.ts. */
  readonly startGate?: StartGate
  /** Where rollback reports go; default `.tandem/failures` under the working directory. */
  readonly failuresDir?: string
  /** With several instances on PostgreSQL only the lease holder analyses and decides. */
  readonly lease?: Lease
  readonly now?: () => number
  /** Health checks of both targets (default on). */
  readonly healthChecks?: boolean
}

export class RolloutController extends EventEmitter<ControllerEvents> implements RolloutControl {
  readonly #o: ControllerOptions
  readonly #now: () => number
  readonly #scheduler: Scheduler
  readonly #executor: Executor
  readonly #windows: MetricWindows
  readonly #lease: Lease

  constructor(options: ControllerOptions) {
    super()
    this.#o = options
    this.#now = options.now ?? Date.now
    this.#windows = new MetricWindows(options.store, options.metrics)
    this.#lease = options.lease ?? controllerLease(options.store, { ttl: () => leaseTtl(options.config()) })
    this.#executor = new Executor({
      config: options.config,
      store: options.store,
      routing: options.routing,
      metrics: options.metrics,
      failuresDir: this.failuresDir,
      healthChecks: options.healthChecks !== false,
      now: this.#now,
      fence: () => this.#lease.fence,
      events: this,
    })
    this.#scheduler = new Scheduler({
      store: options.store,
      // On a shared PostgreSQL store only the instance holding the lease decides; SQLite always holds it.
      // The lease's term lasts the shortest analysis interval: a dead or frozen holder is replaced within two.
      lease: this.#lease,
      systems: () => options.config().systems,
      tick: (name) => this.tick(name),
      changed: (name) => {
        void getState(options.store, name).then(
          (s) => this.#executor.publish(s),
          (e: unknown) => this.emit('error', name, e),
        )
      },
      removed: (name) => this.#executor.forget(name),
      error: (name, error) => this.emit('error', name, error),
    })
  }

  get failuresDir(): string {
    return this.#o.failuresDir ?? resolve('.tandem/failures')
  }

  /** Publish every system's stored state to the routing table, then start the analysis loops. */
  async start(): Promise<void> {
    for (const system of this.#o.config().systems) {
      this.#o.routing.set(system.name, routingOf(await getState(this.#o.store, system.name)))
    }
    await this.#scheduler.start()
  }

  async stop(): Promise<void> {
    const stopped = this.#scheduler.stop()
    this.#executor.health.stop()
    await stopped
  }

  /** One analysis interval of one system. Public so tests and `tandem demo` can drive it directly. */
  async tick(name: string): Promise<void> {
    const system = this.#system(name)
    if (system === undefined) return
    const state = await getState(this.#o.store, name)
    // Another instance or an operator may have changed the state: the store is the truth.
    this.#executor.publish(state)
    if (!(await this.#scheduler.holdsLease())) {
      this.#executor.hold(name, 'another instance holds the controller lease')
      return
    }
    // A datastore or events system is judged by continuous verification (SPEC 13) instead of metrics.
    const move = isMove(system)
    if (!analyses(state.stage, system.kind, move)) {
      if (state.stage === 'rolled-back' && (system.kind === 'http' || system.kind === 'code')) {
        await this.#executor.verifyRollback(system, state)
      }
      this.#executor.forget(name)
      return
    }
    if (this.#o.healthChecks !== false && !move) this.#executor.health.watch(system)
    const now = this.#now()
    const settleMs = settleLag(this.#o.store)
    const sources = { metrics: this.#o.metrics, comparisons: this.#o.comparisons, settleMs }
    // Custom metrics (SPEC 5) are read from Prometheus at the window's end, once per arm.
    const custom = !move && system.analysis.metrics.length > 0 ? await readCustomMetrics(system, now - settleMs) : []
    const failures = this.#executor.health.failures(name, 'candidate')
    const verdict = move
      ? await judgeMove(this.#o.store, system, state, now)
      : await observe(sources, system, state, now, failures, custom)
    await saveVerdict(this.#o.store, state, verdict, now, this.#lease.fence)
    await this.#windows.persist(name, state, now)
    this.emit('verdict', name, verdict, state)
    const context = await this.#context(system, state, verdict.verdict === 'fail')
    const action = decide(state, verdict, system.rollout.steps, now, context)
    await this.#executor.apply(system, state, action)
  }

  /** What decide needs besides the verdict, read from the store only when it matters. */
  async #context(system: SystemConfig, state: SystemState, failed: boolean) {
    const needed = system.analysis.consecutiveFailures
    const failing = failed ? await consecutiveFailures(this.#o.store, system.name, state.startedAt ?? 0, needed) : 0
    const program = failed || state.paused || state.stage === 'promoted' ? null : await getProgramState(this.#o.store)
    return {
      consecutiveFailures: needed,
      failing,
      halt: program?.halted ? describeHalt(program) : null,
      pausedBy: state.paused && !failed ? await this.#pausedBy(system.name) : null,
      lastHold: this.#executor.holdOf(system.name)?.kind ?? null,
    }
  }

  async #pausedBy(name: string): Promise<string> {
    return (await lastActor(this.#o.store, name, 'pause')) ?? 'an operator'
  }

  #system(name: string): SystemConfig | undefined {
    return this.#o.config().systems.find((s) => s.name === name)
  }

  async act(name: string, action: OperatorAction, options: ActionOptions): Promise<Change> {
    const system = this.#system(name)
    if (system === undefined) throw new TandemError('TANDEM_ERR_SYSTEM_NOT_FOUND', { system: name })
    return this.#scheduler.exclusive(name, async () => {
      const state = await getState(this.#o.store, name)
      const config = this.#o.config()
      const { store, startGate } = this.#o
      const plan = await planAction({ config, store, system, state, action, options, now: this.#now(), startGate })
      await this.#executor.requireGates(system, state, plan.gates, `${action} by ${options.actor}`)
      if (action === 'rollback') return this.#executor.rollback(system, state, plan.decision)
      return this.#executor.transition(system, state, plan.change, plan.decision)
    })
  }

  async status(name: string): Promise<SystemStatus> {
    const system = this.#system(name)
    if (system === undefined) throw new TandemError('TANDEM_ERR_SYSTEM_NOT_FOUND', { system: name })
    const state = await getState(this.#o.store, name)
    const live = this.#executor.holdOf(name)?.reason ?? null
    if (!isActive(state.stage)) {
      return { state, holdReason: await holdWhileIdle(this.#o.config(), this.#o.store, state) }
    }
    return { state, holdReason: state.paused && live === null ? `paused by ${await this.#pausedBy(name)}` : live }
  }

  /** Persist a state change with its decision, then publish it and tell the hooks. */
  transition(system: SystemConfig, state: SystemState, change: StateChange, decision: NewDecision): Promise<Change> {
    return this.#executor.transition(system, state, change, decision)
  }

  /** Health of both targets as last probed, for status pages. */
  health(name: string): ReturnType<HealthMonitor['describe']> {
    return this.#executor.health.describe(name)
  }
}

/** The lease's term: the shortest analysis interval of the config (at least 250 ms, against flapping). */
function leaseTtl(config: Config): number {
  return Math.max(250, Math.min(...config.systems.map((s) => s.analysis.interval), 10_000))
}
