// The comparison engine the gateway hands exchanges to: accepts them synchronously, compares them off
// the request path (small bodies inline on a later tick, large ones in worker threads), classifies them
// with noise cancellation, keeps rolling counts for analysis and batches results into the store.
import { defaultsSchema, type Config } from '../config/schema.js'
import type { Store } from '../store/open.js'
import {
  compareExchange,
  compileCompareSettings,
  type CompareConfig,
  type CompareSettings,
  type ComparisonResult,
  type ExchangeOutcome,
} from './compare-exchange.js'
import { DiffStore } from './diff-store.js'
import { NoiseFilter } from './noise.js'
import { RollingCounts } from './rolling-counts.js'
import type { ComparisonCounts, ComparisonReader, ComparisonSink, Exchange } from './sink.js'
import { CompareWorkerPool } from './worker-pool.js'

export interface ComparisonEngineOptions {
  readonly config: Config
  /** Where aggregates and samples go; without one only the in-memory counts are kept. */
  readonly store?: Store
  /** `tandem_shadow_total{system,result}` from src/metrics/prometheus.ts. */
  readonly shadowTotal?: { inc(labels: { system: string; result: string }): void }
  /** Exchanges waiting to be compared; beyond it they are dropped as skipped `overloaded`. */
  readonly queueLimit?: number
  /** Bodies larger than this (bytes, any arm) are compared in a worker thread. */
  readonly workerThreshold?: number
  readonly workers?: number
  readonly flushIntervalMs?: number
}

/** One classified exchange, as listeners (experiments, tests) see it. */
export interface ComparisonRecord {
  readonly system: string
  readonly route: string
  readonly at: number
  readonly result: ComparisonResult
  readonly reason?: string
  readonly outcome: ExchangeOutcome
}

/** The compare defaults of the product, for systems the config does not name (experiments). */
const DEFAULT_COMPARE = defaultsSchema.parse({ compare: {} }).compare as CompareConfig

/** Longest stretch of inline comparisons before yielding back to the event loop. */
const SLICE_MS = 8

export class ComparisonEngine implements ComparisonSink, ComparisonReader {
  private settings = new Map<string, CompareSettings>()
  private readonly defaults = compileCompareSettings(DEFAULT_COMPARE)
  private queue: Exchange[] = []
  private head = 0
  private scheduled = false
  private readonly pool: CompareWorkerPool
  private readonly rolling = new RollingCounts()
  private readonly noise = new NoiseFilter()
  private readonly diffs: DiffStore | undefined
  private readonly skipReasons = new Map<string, Map<string, number>>()
  private readonly listeners = new Set<(r: ComparisonRecord) => void>()
  private timer: NodeJS.Timeout | undefined
  private readonly queueLimit: number
  private readonly workerThreshold: number

  constructor(private readonly options: ComparisonEngineOptions) {
    this.queueLimit = options.queueLimit ?? 10_000
    this.workerThreshold = options.workerThreshold ?? 256 * 1024
    this.pool = new CompareWorkerPool(options.workers ?? 2)
    this.diffs = options.store === undefined ? undefined : new DiffStore(options.store)
    this.reload(options.config)
  }

  /** Load what the store already holds and start the periodic flush. */
  async start(): Promise<void> {
    await this.diffs?.load()
    if (this.diffs !== undefined && this.timer === undefined) {
      this.timer = setInterval(() => void this.flush().catch(() => {}), this.options.flushIntervalMs ?? 1000)
      this.timer.unref()
    }
  }

  /** Apply new compare settings (config reload); counts and samples carry over. */
  reload(config: Config): void {
    const next = new Map<string, CompareSettings>()
    for (const s of config.systems) next.set(s.name, compileCompareSettings(s.compare as CompareConfig))
    this.settings = next
  }

  submit(exchange: Exchange): void {
    if (this.queue.length - this.head >= this.queueLimit) {
      this.drop(exchange, 'overloaded')
      return
    }
    this.queue.push(exchange)
    this.schedule()
  }

  counts(system: string, sinceMs: number, untilMs: number): ComparisonCounts {
    return this.rolling.counts(system, sinceMs, untilMs)
  }

  /** Why comparisons of a system were skipped since this process started. */
  skipped(system: string): Record<string, number> {
    return Object.fromEntries(this.skipReasons.get(system) ?? [])
  }

  /** Be told of every classified exchange; returns the unsubscribe function. */
  onRecord(listener: (r: ComparisonRecord) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Settle every accepted exchange (queue and workers). Bounded: gives up after `timeoutMs`. */
  async idle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while ((this.queue.length > this.head || this.pool.inFlight > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  flush(): Promise<void> {
    return this.diffs?.flush() ?? Promise.resolve()
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.idle()
    await this.pool.close()
    await this.flush()
  }

  private settingsOf(system: string): CompareSettings {
    return this.settings.get(system) ?? this.defaults
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => this.process())
  }

  /** Work through the queue in short slices so the gateway's own callbacks keep running. */
  private process(): void {
    this.scheduled = false
    const until = Date.now() + SLICE_MS
    while (this.head < this.queue.length && Date.now() < until) {
      const ex = this.queue[this.head]!
      this.queue[this.head++] = undefined as never
      this.compare(ex)
    }
    if (this.head >= this.queue.length) {
      this.queue = []
      this.head = 0
    } else {
      if (this.head > 1024) {
        this.queue = this.queue.slice(this.head)
        this.head = 0
      }
      this.schedule()
    }
  }

  private compare(ex: Exchange): void {
    const s = this.settingsOf(ex.system)
    if (bodySize(ex) > this.workerThreshold) {
      // Without a store nothing keeps samples (null): the worker then builds none.
      const full = this.diffs?.fullFields(ex.system, ex.route, s.config.samplesPerField) ?? null
      const job = this.pool.run(ex, s.config, full)
      if (job === null) this.drop(ex, 'overloaded')
      else
        job.then(
          (o) => this.finish(ex, s, o),
          () => this.drop(ex, 'compare-error'),
        )
      return
    }
    let outcome: ExchangeOutcome
    try {
      const limit = s.config.samplesPerField
      outcome = compareExchange(ex, s, (d) => this.diffs?.wantsSample(ex.system, ex.route, d.field, limit) ?? false)
    } catch {
      this.drop(ex, 'compare-error')
      return
    }
    this.finish(ex, s, outcome)
  }

  private drop(ex: Exchange, reason: string): void {
    this.finish(ex, this.settingsOf(ex.system), { result: 'skipped', reason, raw: [], noise: [], remaining: [] })
  }

  private finish(ex: Exchange, s: CompareSettings, outcome: ExchangeOutcome): void {
    const routeKey = `${ex.system}\u0000${ex.route}`
    let result = outcome.result
    if (result === 'mismatch' || result === 'noise-only' || result === 'match') {
      this.noise.observe(routeKey, outcome.raw, outcome.noise)
      // A difference only in fields that are noisy on this route is noise even when this request's
      // secondary happened to agree with the primary.
      if (result === 'mismatch' && outcome.remaining.every((d) => this.noise.isKnownNoise(routeKey, d, s.config.noise)))
        result = 'noise-only'
    }
    const classified = result === outcome.result ? outcome : { ...outcome, result }
    if (result === 'skipped') {
      let reasons = this.skipReasons.get(ex.system)
      if (reasons === undefined) this.skipReasons.set(ex.system, (reasons = new Map()))
      const reason = outcome.reason ?? 'unknown'
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
    }
    this.rolling.add(ex.system, ex.at, result)
    this.diffs?.record(ex.system, ex.route, classified, ex.at, s.config.samplesPerField)
    this.options.shadowTotal?.inc({ system: ex.system, result })
    for (const l of this.listeners) {
      try {
        l({ system: ex.system, route: ex.route, at: ex.at, result, reason: outcome.reason, outcome: classified })
      } catch {
        // A listener's failure must not stop the others or the engine.
      }
    }
  }
}

function bodySize(ex: Exchange): number {
  let n = 0
  for (const r of [ex.legacy, ex.candidate, ex.secondary]) if (r?.ok && r.body.length > n) n = r.body.length
  return n
}
