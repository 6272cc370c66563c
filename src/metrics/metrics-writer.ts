// Writes this instance's metrics to the store every second, off the request path (SPEC 11): each finished
// second per system x route x arm with its encoded histogram, the comparison counts, and prunes old rows.
import type { ComparisonCounts } from '../compare/sink.js'
import { addResult, emptyCounts } from '../compare/rolling-counts.js'
import type { ComparisonResult } from '../compare/compare-exchange.js'
import { pruneMetricSeconds, writeMetricSeconds } from '../store/metric-seconds.js'
import type { ComparisonSecond, RequestSecond } from '../store/metric-seconds.js'
import type { Store } from '../store/open.js'
import { encodeHistogram } from './histogram.js'
import type { RequestMetrics } from './request-metrics.js'
import { RETENTION_SECONDS } from './series.js'

/** Seconds a comparison result may arrive after its exchange and still be written (timeouts, queues). */
const COMPARISON_LATENESS_SECONDS = 120
/**
 * A finished second is in the store within this long: flushes run just after each second ends, so
 * this leaves half a second for the write and a busy event loop.
 */
export const METRICS_SETTLE_MS = 1500
/** Flushes run this long after a second ends. */
const FLUSH_OFFSET_MS = 20
/** How often old rows are pruned. */
const PRUNE_EVERY_MS = 60_000

export interface MetricsWriterOptions {
  readonly store: Store
  readonly instance: string
  readonly metrics: RequestMetrics
  /** How long rows are kept (config `metrics.retention`), read at every prune. */
  readonly retentionMs: () => number
  readonly now?: () => number
  readonly flushEveryMs?: number
  readonly onError?: (error: unknown) => void
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

interface PendingComparisons {
  readonly system: string
  readonly route: string
  readonly second: number
  readonly counts: Mutable<ComparisonCounts>
  /** Changed since last written. */
  dirty: boolean
}

export class MetricsWriter {
  readonly #o: MetricsWriterOptions
  readonly #now: () => number
  /** Seconds before this one have been written (request columns). */
  #writtenUntil: number
  /** "system\0route\0second" -> counts so far and whether they changed since written. */
  readonly #comparisons = new Map<string, PendingComparisons>()
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  #lastPrune = 0
  #closed = false

  constructor(options: MetricsWriterOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
    this.#writtenUntil = Math.floor(this.#now() / 1000)
  }

  /** Count one classified exchange (the comparison engine's listener); cheap, no I/O. */
  recordComparison(record: { system: string; route: string; at: number; result: ComparisonResult }): void {
    const second = Math.floor(record.at / 1000)
    const key = `${record.system}\0${record.route}\0${second}`
    let entry = this.#comparisons.get(key)
    if (entry === undefined) {
      entry = { system: record.system, route: record.route, second, counts: emptyCounts(), dirty: false }
      this.#comparisons.set(key, entry)
    }
    addResult(entry.counts, record.result)
    entry.dirty = true
  }

  /** Flush just after every second ends (so the store lags the gateway by well under METRICS_SETTLE_MS). */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return
    const every = this.#o.flushEveryMs ?? 1000
    const wall = Date.now()
    this.#timer = setTimeout(
      () => {
        void this.flush()
          .catch((error: unknown) => this.#o.onError?.(error))
          .finally(() => {
            this.#timer = undefined
            this.start()
          })
      },
      every - (wall % every) + FLUSH_OFFSET_MS,
    )
    this.#timer.unref()
  }

  /** Stop the timer and write everything, the current second included. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.flush(true)
  }

  /** Write the seconds finished since the last flush (all of them with `final`); one transaction. */
  flush(final = false): Promise<void> {
    // One flush at a time; a flush asked for while one runs follows it.
    const run = (this.#flushing ?? Promise.resolve()).then(() => this.#flush(final))
    const settled = run.catch(() => undefined)
    this.#flushing = settled
    void settled.then(() => {
      if (this.#flushing === settled) this.#flushing = undefined
    })
    return run
  }

  async #flush(final: boolean): Promise<void> {
    const now = this.#now()
    const nowSecond = Math.floor(now / 1000)
    // A bucket of a past second never changes again: the series records only into the current second.
    const to = final ? nowSecond + 1 : nowSecond
    // After a long store outage only what the series still hold can be written.
    const from = Math.max(this.#writtenUntil, to - RETENTION_SECONDS + 1)
    const requests: RequestSecond[] = []
    if (to > from) {
      for (const series of this.#o.metrics.all()) {
        for (const b of series.buckets(from, to)) {
          if (b.requests === 0) continue
          const base = { system: series.system, route: series.route, arm: series.arm }
          const histogram = encodeHistogram(series.encodable(b))
          requests.push({ ...base, second: b.second, requests: b.requests, errors: b.errors, histogram })
        }
      }
    }
    const comparisons: Array<ComparisonSecond & { entry: { dirty: boolean } }> = []
    for (const entry of this.#comparisons.values()) {
      if (entry.dirty) {
        const { system, route, second } = entry
        comparisons.push({ system, route, second, counts: { ...entry.counts }, entry })
      }
      entry.dirty = false
    }
    try {
      await writeMetricSeconds(this.#o.store, this.#o.instance, requests, comparisons)
    } catch (error) {
      for (const c of comparisons) c.entry.dirty = true
      throw error
    }
    if (to > this.#writtenUntil) this.#writtenUntil = to
    for (const [key, entry] of this.#comparisons) {
      if (entry.second < nowSecond - COMPARISON_LATENESS_SECONDS) this.#comparisons.delete(key)
    }
    if (now - this.#lastPrune >= PRUNE_EVERY_MS) {
      this.#lastPrune = now
      await pruneMetricSeconds(this.#o.store, Math.floor((now - this.#o.retentionMs()) / 1000))
    }
  }
}
