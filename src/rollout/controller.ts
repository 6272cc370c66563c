// The rollout controller (SPEC 5): every analysis.interval, for every active system, a verdict from
// the metrics, then advance, hold or roll back. It owns the routing table the gateway reads.
import { EventEmitter } from 'node:events'
import { resolve } from 'node:path'
import { analyse, type Verdict } from '../analysis/verdict.js'
import type { ComparisonReader } from '../compare/sink.js'
import type { Config, SystemConfig } from '../config/schema.js'
import { TandemError, isTandemError } from '../errors.js'
import type { RoutingTable } from '../gateway/routing-table.js'
import type { ArmWindow, MetricsReader } from '../metrics/reader.js'
import { openChangeFeed, type ChangeFeed } from '../store/changes.js'
import { controllerLease, type Lease } from '../store/lease.js'
import type { Store } from '../store/open.js'
import { getState, recordDecision, type Decision, type NewDecision, type StateChange, type SystemState } from '../store/system-state.js'
import { planAction, type StartGate } from './actions.js'
import type { ActionOptions, OperatorAction, RolloutControl, SystemStatus } from './control.js'
import { writeFailureReport } from './failure-report.js'
import { HealthMonitor } from './health.js'
import { gate, notify, type HookKind, type HookPayload } from './hooks.js'
import { METRICS_SETTLE_MS } from '../metrics/metrics-writer.js'
import { consecutiveFailures, lastActor, lastMetricWindowEnd, saveMetricWindows, saveVerdict } from './records.js'
import { describeStep, isActive, placementOf, PROMOTED, ROLLED_BACK, routingOf, servesCandidate, stepDuration } from './steps.js'
import { holdWhileIdle } from './idle-reasons.js'
import { checkMassFailure, verifyPendingRollback, type AfterRollbackContext } from './after-rollback.js'
import { describeHalt } from '../program/halt.js'
import { getProgramState } from '../store/program-state.js'

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

export interface ControllerEvents {
  verdict: [system: string, verdict: Verdict, state: SystemState]
  decision: [decision: Decision, state: SystemState]
  report: [system: string, file: string]
  error: [system: string, error: unknown]
}

/** Hold kinds worth a `hold` decision in the audit trail (recorded once each time one begins). */
type HoldKind = 'inconclusive' | 'failing' | 'hook' | 'promote-rule' | 'confirm' | 'halted'

export class RolloutController extends EventEmitter<ControllerEvents> implements RolloutControl {
  readonly #o: ControllerOptions
  readonly #now: () => number
  readonly #lease: Lease
  readonly #health = new HealthMonitor()
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #locks = new Map<string, Promise<unknown>>()
  readonly #holds = new Map<string, { reason: string; kind: HoldKind | null }>()
  #supervisor: NodeJS.Timeout | undefined
  #feed: ChangeFeed | undefined
  /** Per system, where the persisted metric windows end: they tile time without overlap. */
  readonly #persistedUntil = new Map<string, number>()
  #running = false
  readonly #after: AfterRollbackContext

  constructor(options: ControllerOptions) {
    super()
    this.#o = options
    this.#now = options.now ?? Date.now
    // On a shared PostgreSQL store only the instance holding the lease decides; SQLite always holds it.
    this.#lease = options.lease ?? controllerLease(options.store)
    this.#after = {
      config: options.config,
      store: options.store,
      metrics: options.metrics,
      failuresDir: this.failuresDir,
      healthChecks: options.healthChecks !== false,
      now: this.#now,
      announce: (system, kind, state, reason, decision) => {
        if (decision !== undefined) this.emit('decision', decision, state)
        void notify(this.#o.config(), system, kind, this.#payload(kind, state, reason, decision))
      },
      error: (system, error) => this.emit('error', system, error),
    }
  }

  get failuresDir(): string {
    return this.#o.failuresDir ?? resolve('.tandem/failures')
  }

  /** Publish every system's stored state to the routing table, then start the analysis loops. */
  async start(): Promise<void> {
    this.#running = true
    for (const system of this.#o.config().systems) this.#o.routing.set(system.name, routingOf(await getState(this.#o.store, system.name)))
    // A decision taken by another instance (or its operator) reaches this gateway within a second.
    this.#feed = await openChangeFeed(this.#o.store)
    this.#feed.on((kind, system) => {
      if (kind === 'state' && this.#running) void getState(this.#o.store, system).then((s) => this.#publish(s), (e: unknown) => this.emit('error', system, e))
    })
    this.#reconcile()
    // Systems added by a config reload get their loop within a second.
    this.#supervisor = setInterval(() => this.#reconcile(), 1000)
    this.#supervisor.unref()
  }

  async stop(): Promise<void> {
    this.#running = false
    clearInterval(this.#supervisor)
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
    this.#health.stop()
    await this.#feed?.close().catch(() => {})
    await Promise.allSettled([...this.#locks.values()])
    await this.#lease.release().catch(() => {})
  }

  #reconcile(): void {
    if (!this.#running) return
    const names = new Set(this.#o.config().systems.map((s) => s.name))
    for (const name of names) if (!this.#timers.has(name)) this.#schedule(name)
    for (const name of [...this.#timers.keys()]) {
      if (names.has(name)) continue
      clearTimeout(this.#timers.get(name))
      this.#timers.delete(name)
      this.#health.unwatch(name)
    }
  }

  #schedule(name: string): void {
    const system = this.#system(name)
    if (system === undefined || !this.#running) return
    const timer = setTimeout(() => {
      void this.#exclusive(name, () => this.tick(name))
        .catch((error: unknown) => this.emit('error', name, error))
        .finally(() => {
          if (this.#timers.get(name) === timer) this.#schedule(name)
        })
    }, system.analysis.interval)
    this.#timers.set(name, timer)
  }

  /** Run `fn` after every earlier tick or action of the same system: one writer per system. */
  #exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(name) ?? Promise.resolve()
    const next = previous.then(fn, fn)
    const settled = next.catch(() => undefined)
    this.#locks.set(name, settled)
    void settled.then(() => {
      if (this.#locks.get(name) === settled) this.#locks.delete(name)
    })
    return next
  }

  #system(name: string): SystemConfig | undefined {
    return this.#o.config().systems.find((s) => s.name === name)
  }

  /** One analysis interval of one system. Public so tests and `tandem demo` can drive it directly. */
  async tick(name: string): Promise<void> {
    const system = this.#system(name)
    if (system === undefined) return
    const state = await getState(this.#o.store, name)
    // Another instance or an operator may have changed the state: the store is the truth.
    this.#publish(state)
    if (!(await this.#lease.tryAcquire().catch(() => false))) {
      this.#hold(name, 'another instance holds the controller lease', null)
      return
    }
    if (!isActive(state.stage) || system.kind !== 'http') {
      // One interval after a rollback, legacy's health and error rate verify it (SPEC 5).
      if (state.stage === 'rolled-back' && system.kind === 'http') await verifyPendingRollback(this.#after, system, state)
      this.#health.unwatch(name)
      this.#holds.delete(name)
      return
    }
    if (this.#o.healthChecks !== false) this.#health.watch(system)
    const now = this.#now()
    // A window never reaches back before the current step: metrics are kept in whole seconds, so it
    // starts at the first full second of the step (after a retry, the failures that caused the
    // rollback must not be judged again).
    const stepStart = Math.ceil((state.stepStartedAt ?? 0) / 1000) * 1000
    // On a store shared by several instances their seconds are all written METRICS_SETTLE_MS after.
    const end = now - (this.#o.store.dialect === 'postgres' ? METRICS_SETTLE_MS : 0)
    // The reader answers in whole seconds; the window recorded as evidence is the one really read.
    const start = Math.min(end, Math.floor(Math.max(end - system.analysis.interval, stepStart) / 1000) * 1000)
    const verdict = analyse({
      system: name,
      window: { start, end },
      // Until the step's first full second has begun there is nothing of this step to judge yet.
      arms: start < end ? await this.#o.metrics.window(name, start, end) : { legacy: EMPTY_ARM, candidate: EMPTY_ARM },
      comparisons: start < end ? ((await this.#o.comparisons?.counts(name, start, end)) ?? null) : null,
      healthFailures: this.#health.failures(name, 'candidate'),
      analysis: system.analysis,
    })
    await saveVerdict(this.#o.store, state, verdict, now)
    await this.#persistMetrics(name, state, now)
    this.emit('verdict', name, verdict, state)

    if (verdict.verdict === 'fail') {
      const needed = system.analysis.consecutiveFailures
      const failing = await consecutiveFailures(this.#o.store, name, state.startedAt ?? 0, needed)
      if (failing >= needed) {
        await this.#rollback(system, state, { action: 'rollback', actor: 'controller', reason: verdict.reason, evidence: verdictEvidence(verdict) })
        return
      }
      return this.#holdAndRecord(state, `failing verdict ${failing} of ${needed}: ${verdict.reason}`, 'failing', verdict)
    }
    if (state.stage === 'promoted') return this.#hold(name, null, null)
    if (state.paused) return this.#hold(name, `paused by ${(await lastActor(this.#o.store, name, 'pause')) ?? 'an operator'}`, null)
    // A halted program (mass failure, or `tandem program halt`) keeps every system at its current step.
    const program = await getProgramState(this.#o.store)
    if (program.halted) return this.#holdAndRecord(state, `program halted: ${describeHalt(program)}; run \`tandem program resume\``, 'halted', verdict)

    const steps = system.rollout.steps
    const step = steps[state.stepIndex]
    if (step === undefined) return this.#hold(name, `step ${state.stepIndex} is not in the configured steps; run \`tandem advance\` or \`tandem rollback\``, null)
    const left = stepDuration(step) - (now - (state.stepStartedAt ?? now))
    if (left > 0) return this.#hold(name, `${describeStep(steps, state.stepIndex)}: ${Math.ceil(left / 1000)}s left in this step`, null)
    if (verdict.verdict === 'inconclusive') return this.#holdAndRecord(state, verdict.reason, 'inconclusive', verdict)
    if (step.confirm) return this.#holdAndRecord(state, `${describeStep(steps, state.stepIndex)} waits for \`tandem advance\``, 'confirm', verdict)

    const last = state.stepIndex === steps.length - 1
    if (last) {
      if (!verdict.promoteOk) {
        const unmet = verdict.rules.filter((r) => r.rule.startsWith('promote.') && r.result === 'fail').map((r) => `${r.metric} ${fmt(r.value)} not ${r.threshold}`)
        return this.#holdAndRecord(state, `promote rule not met: ${unmet.join(', ')}`, 'promote-rule', verdict)
      }
      const ok = await gate(this.#o.config(), system, 'confirm-promotion', this.#payload('confirm-promotion', state, 'promotion requested'))
      if (!ok.ok) return this.#holdAndRecord(state, `waiting for confirm-promotion hook: ${ok.detail}`, 'hook', verdict)
      await this.transition(system, state, { ...PROMOTED, promotedAt: now, stepStartedAt: now }, { action: 'promote', actor: 'controller', reason: `${describeStep(steps, state.stepIndex)} passed: ${verdict.reason}`, evidence: verdictEvidence(verdict) })
      return
    }
    const next = placementOf(steps[state.stepIndex + 1]!)
    if (!servesCandidate(state) && servesCandidate(next)) {
      for (const kind of ['confirm-rollout', 'pre-rollout'] as const) {
        const ok = await gate(this.#o.config(), system, kind, this.#payload(kind, state, 'first traffic shift to the candidate'))
        if (!ok.ok) return this.#holdAndRecord(state, `waiting for ${kind} hook: ${ok.detail}`, 'hook', verdict)
      }
    }
    await this.transition(
      system,
      state,
      { ...next, stepIndex: state.stepIndex + 1, stepStartedAt: now },
      { action: 'advance', actor: 'controller', reason: `${describeStep(steps, state.stepIndex)} passed: ${verdict.reason}`, evidence: verdictEvidence(verdict) },
    )
  }

  /**
   * Persist the completed whole seconds since the last persisted window (not the analysis window,
   * which may overlap the previous one): KPIs sum these rows and must count every request once.
   */
  async #persistMetrics(name: string, state: SystemState, now: number): Promise<void> {
    let from = this.#persistedUntil.get(name)
    if (from === undefined) from = await lastMetricWindowEnd(this.#o.store, name)
    // The metrics reader keeps 15 minutes; never ask beyond it, nor before this run of the rollout.
    from = Math.max(from, Math.floor((state.startedAt ?? now) / 1000) * 1000, now - 14 * 60_000)
    // On a store shared by several instances a second is complete there only once every instance wrote it.
    const until = Math.floor((now - (this.#o.store.dialect === 'postgres' ? METRICS_SETTLE_MS : 0)) / 1000) * 1000
    if (until <= from) return
    await saveMetricWindows(this.#o.store, this.#o.metrics, name, from, until)
    this.#persistedUntil.set(name, until)
  }

  #hold(name: string, reason: string | null, kind: HoldKind | null): void {
    if (reason === null) this.#holds.delete(name)
    else this.#holds.set(name, { reason, kind })
  }

  /** Hold, and write a `hold` decision when a new kind of hold begins (not every interval). */
  async #holdAndRecord(state: SystemState, reason: string, kind: HoldKind, verdict: Verdict): Promise<void> {
    const before = this.#holds.get(state.system)?.kind
    this.#hold(state.system, reason, kind)
    if (before === kind) return
    const { decision, state: next } = await recordDecision(this.#o.store, state.system, state.version, {}, { action: 'hold', actor: 'controller', reason, evidence: verdictEvidence(verdict) }, this.#now())
    this.emit('decision', decision, next)
    const system = this.#system(state.system)
    if (system !== undefined) void notify(this.#o.config(), system, 'event', this.#payload('event', next, reason, decision))
  }

  #publish(state: SystemState): void {
    const current = this.#o.routing.get(state.system)
    const wanted = routingOf(state)
    if (current.stage !== wanted.stage || current.weight !== wanted.weight || current.activeArm !== wanted.activeArm || current.paused !== wanted.paused) {
      this.#o.routing.set(state.system, wanted)
    }
  }

  /** Persist a state change with its decision, then publish it and tell the hooks. */
  async transition(system: SystemConfig, state: SystemState, change: StateChange, decision: NewDecision): Promise<{ state: SystemState; decision: Decision }> {
    const result = await recordDecision(this.#o.store, system.name, state.version, change, decision, this.#now())
    this.#publish(result.state)
    this.#holds.delete(system.name)
    this.emit('decision', result.decision, result.state)
    this.#tell(system, result.state, result.decision)
    return result
  }

  /** Rollback: traffic to legacy first (at once), then the decision, then the failure report. */
  async #rollback(system: SystemConfig, state: SystemState, decision: NewDecision): Promise<{ state: SystemState; decision: Decision }> {
    this.#o.routing.set(system.name, routingOf({ ...ROLLED_BACK, paused: false }))
    let current = state
    let result: { state: SystemState; decision: Decision } | undefined
    // An operator racing the controller must not leave the routing and the store disagreeing.
    for (let attempt = 0; result === undefined; attempt++) {
      try {
        result = await recordDecision(this.#o.store, system.name, current.version, { ...ROLLED_BACK, paused: false, stepStartedAt: this.#now() }, decision, this.#now())
      } catch (error) {
        if (!isTandemError(error) || error.code !== 'TANDEM_ERR_STORE_CONFLICT' || attempt >= 3) throw error
        current = await getState(this.#o.store, system.name)
        if (!isActive(current.stage)) {
          this.#publish(current)
          throw new TandemError('TANDEM_ERR_ACTION_INVALID', { action: 'rollback', system: system.name, stage: current.stage, detail: 'it is no longer active' })
        }
      }
    }
    this.#holds.delete(system.name)
    this.#health.unwatch(system.name)
    this.emit('decision', result.decision, result.state)
    try {
      const file = await writeFailureReport(this.failuresDir, this.#o.store, {
        system: system.name,
        at: result.decision.at,
        reason: decision.reason,
        before: current,
        evidence: decision.evidence ?? null,
        current: await this.#liveMetrics(system, current),
      })
      this.emit('report', system.name, file)
    } catch (error) {
      this.emit('error', system.name, error)
    }
    this.#tell(system, result.state, result.decision)
    await checkMassFailure(this.#after, system, result.state).catch((error: unknown) => this.emit('error', system.name, error))
    return result
  }

  /** Per route and arm, the last analysis interval as the gateway measured it (samples left out). */
  async #liveMetrics(system: SystemConfig, state: SystemState): Promise<unknown> {
    const now = this.#now()
    const start = Math.floor(Math.max(now - system.analysis.interval, state.stepStartedAt ?? 0) / 1000) * 1000
    const strip = ({ samples: _samples, ...rest }: ArmWindow) => rest
    return {
      window: { start, end: now },
      routes: (await this.#o.metrics.routes(system.name, start, now)).map((r) => ({ route: r.route, legacy: strip(r.legacy), candidate: strip(r.candidate) })),
    }
  }

  #tell(system: SystemConfig, state: SystemState, decision: Decision): void {
    const kind: HookKind = decision.action === 'promote' ? 'promoted' : decision.action === 'rollback' ? 'rollback' : ['advance', 'start', 'retry'].includes(decision.action) ? 'step' : 'event'
    void notify(this.#o.config(), system, kind, this.#payload(kind, state, decision.reason, decision))
  }

  #payload(kind: HookKind, state: SystemState, reason: string, decision?: Decision): HookPayload {
    const steps = this.#system(state.system)?.rollout.steps ?? []
    const where = state.stepIndex >= 0 && (state.stage === 'shadow' || state.stage === 'canary') ? `, ${describeStep(steps, state.stepIndex)}` : ''
    const text = `tandem: ${state.system} ${decision?.action ?? kind} -> ${state.stage} (weight ${state.weight}%${where}): ${reason}`
    return { kind, system: state.system, stage: state.stage, weight: state.weight, stepIndex: state.stepIndex, reason, text, at: new Date(this.#now()).toISOString(), ...(decision ? { decision } : {}) }
  }

  async act(name: string, action: OperatorAction, options: ActionOptions): Promise<{ state: SystemState; decision: Decision }> {
    const system = this.#system(name)
    if (system === undefined) throw new TandemError('TANDEM_ERR_SYSTEM_NOT_FOUND', { system: name })
    return this.#exclusive(name, async () => {
      const state = await getState(this.#o.store, name)
      const plan = await planAction({ config: this.#o.config(), store: this.#o.store, system, state, action, options, now: this.#now(), startGate: this.#o.startGate })
      if (plan.gates.length > 0) {
        for (const kind of plan.gates) {
          const ok = await gate(this.#o.config(), system, kind, this.#payload(kind, state, `${action} by ${options.actor}`))
          if (!ok.ok) throw new TandemError('TANDEM_ERR_HOOK_REFUSED', { hook: kind, system: name, detail: ok.detail })
        }
      }
      if (action === 'rollback') return this.#rollback(system, state, plan.decision)
      return this.transition(system, state, plan.change, plan.decision)
    })
  }

  async status(name: string): Promise<SystemStatus> {
    const system = this.#system(name)
    if (system === undefined) throw new TandemError('TANDEM_ERR_SYSTEM_NOT_FOUND', { system: name })
    const state = await getState(this.#o.store, name)
    const live = this.#holds.get(name)?.reason ?? null
    const holdReason = isActive(state.stage) ? (state.paused && live === null ? `paused by ${(await lastActor(this.#o.store, name, 'pause')) ?? 'an operator'}` : live) : await holdWhileIdle(this.#o.config(), this.#o.store, state)
    return { state, holdReason }
  }

  /** Health of both targets as last probed, for status pages. */
  health(name: string): ReturnType<HealthMonitor['describe']> {
    return this.#health.describe(name)
  }
}

const EMPTY_ARM: ArmWindow = { requests: 0, errors: 0, successes: 0, latency: { p50: 0, p95: 0, p99: 0, mean: 0, count: 0 }, samples: [] }

function verdictEvidence(v: Verdict): unknown {
  return { verdict: v.verdict, reason: v.reason, judge: v.judge, score: v.score, window: v.window, samples: v.samples, rules: v.rules }
}

const fmt = (n: number | null): string => (n === null ? 'n/a' : Number.isInteger(n) ? String(n) : n.toPrecision(3))
