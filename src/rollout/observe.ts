// What the controller reads each interval before it decides: the analysis window of the current step,
// the verdict over it, and the metric windows it persists for KPIs (each second counted once).
import type { CustomReading } from '../analysis/prometheus-rule.js'
import { analyse, type Verdict } from '../analysis/verdict.js'
import type { ComparisonReader } from '../compare/sink.js'
import type { SystemConfig } from '../config/schema.js'
import { METRICS_SETTLE_MS } from '../metrics/metrics-writer.js'
import type { ArmWindow, MetricsReader } from '../metrics/reader.js'
import type { Store } from '../store/open.js'
import type { SystemState } from '../store/system-state.js'
import { lastMetricWindowEnd, saveMetricWindows } from '../store/metric-windows.js'

const EMPTY_ARM: ArmWindow = {
  requests: 0,
  errors: 0,
  successes: 0,
  latency: { p50: 0, p95: 0, p99: 0, mean: 0, count: 0 },
  samples: [],
}

export interface ObserveSources {
  /** The gateway's own reader (immediate) or the one merging every instance's seconds from the store. */
  readonly metrics: MetricsReader
  readonly comparisons?: ComparisonReader | undefined
  /** See settleLag; 0 when only this instance writes the metrics. */
  readonly settleMs?: number
}

/** How far before `now` reads of the store end: on a store several instances share, their seconds settle there. */
export function settleLag(store: Store): number {
  return store.dialect === 'postgres' ? METRICS_SETTLE_MS : 0
}

/**
 * The window judged at `now`: one interval, never reaching back before the current step, ending `settleMs`
 * before `now` (on a store shared by several instances their seconds are all written METRICS_SETTLE_MS after).
 */
export function analysisWindow(
  system: SystemConfig,
  state: SystemState,
  now: number,
  settleMs = 0,
): { start: number; end: number } {
  const end = now - settleMs
  // Metrics are kept in whole seconds, so it starts at the first full second of the step (after a retry,
  // the failures that caused the rollback must not be judged again).
  const stepStart = Math.ceil((state.stepStartedAt ?? 0) / 1000) * 1000
  // The reader answers in whole seconds; the window recorded as evidence is the one really read.
  const start = Math.min(end, Math.floor(Math.max(end - system.analysis.interval, stepStart) / 1000) * 1000)
  return { start, end }
}

/** This interval's verdict from the gateway's metrics, the comparisons and the candidate's health. */
export async function observe(
  sources: ObserveSources,
  system: SystemConfig,
  state: SystemState,
  now: number,
  healthFailures: number,
  custom: readonly CustomReading[] = [],
): Promise<Verdict> {
  const window = analysisWindow(system, state, now, sources.settleMs ?? 0)
  const { start, end } = window
  // Until the step's first full second has begun there is nothing of this step to judge yet.
  const some = start < end
  return analyse({
    system: system.name,
    window,
    arms: some ? await sources.metrics.window(system.name, start, end) : { legacy: EMPTY_ARM, candidate: EMPTY_ARM },
    comparisons: some ? ((await sources.comparisons?.counts(system.name, start, end)) ?? null) : null,
    healthFailures,
    analysis: system.analysis,
    custom,
  })
}

/** Per route and arm, the last analysis interval as the gateway measured it (samples left out). */
export async function liveMetrics(
  metrics: MetricsReader,
  system: SystemConfig,
  state: SystemState,
  now: number,
): Promise<unknown> {
  const start = Math.floor(Math.max(now - system.analysis.interval, state.stepStartedAt ?? 0) / 1000) * 1000
  const strip = ({ samples: _samples, ...rest }: ArmWindow) => rest
  const routes = await metrics.routes(system.name, start, now)
  return {
    window: { start, end: now },
    routes: routes.map((r) => ({ route: r.route, legacy: strip(r.legacy), candidate: strip(r.candidate) })),
  }
}

/**
 * Persists the completed whole seconds since the last persisted window (not the analysis window, which
 * may overlap the previous one): KPIs sum these rows and must count every request once.
 */
export class MetricWindows {
  /** Per system, where the persisted metric windows end: they tile time without overlap. */
  readonly #persistedUntil = new Map<string, number>()

  constructor(
    readonly store: Store,
    readonly metrics: MetricsReader,
  ) {}

  async persist(name: string, state: SystemState, now: number): Promise<void> {
    let from = this.#persistedUntil.get(name)
    if (from === undefined) from = await lastMetricWindowEnd(this.store, name)
    // The metrics reader keeps 15 minutes; never ask beyond it, nor before this run of the rollout.
    from = Math.max(from, Math.floor((state.startedAt ?? now) / 1000) * 1000, now - 14 * 60_000)
    // On a store shared by several instances a second is complete there only once every instance wrote it.
    const until = Math.floor((now - settleLag(this.store)) / 1000) * 1000
    if (until <= from) return
    await saveMetricWindows(this.store, this.metrics, name, from, until)
    this.#persistedUntil.set(name, until)
  }
}
