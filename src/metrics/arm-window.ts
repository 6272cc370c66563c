// Merges one-second metric buckets (this process's, or other instances' read from the store) into the
// ArmWindow analysis reads: counts add up, histograms merge, percentiles come from the merged histogram.
import { meanOf, newMergeHistogram, type Histogram } from './histogram.js'
import type { ArmWindow } from './reader.js'
import { CountsMerger, type StoredCounts } from './stored-histogram.js'

/** Samples returned per arm and window at most (bounded for the Mann-Whitney judge). */
export const MAX_WINDOW_SAMPLES = 2000
/** Samples standing for a stored second at most (the live reservoir keeps 64 per second too). */
export const SAMPLES_PER_STORED_SECOND = 64

export class WindowAccumulator {
  requests = 0
  errors = 0
  /** Live seconds' and foreign-layout histograms, made on first use (most stored-only windows need none). */
  #live: Histogram | undefined
  readonly #stored = new CountsMerger()
  #storedSeconds = 0
  #pool: number[] = []
  #merged: Histogram | undefined

  /** Add one live second of one series: counts, its histogram (microseconds) and latency samples (ms). */
  add(requests: number, errors: number, histogram: Histogram | null, samples: readonly number[]): void {
    this.requests += requests
    this.errors += errors
    if (histogram !== null) (this.#live ??= newMergeHistogram()).add(histogram)
    for (const s of samples) this.#pool.push(s)
    this.#merged = undefined
  }

  /**
   * Add one stored second of one series (or the summed counts of `seconds` of them); their raw samples were
   * not kept, quantiles of them stand in.
   */
  addStored(requests: number, errors: number, histogram: StoredCounts | Histogram | null, seconds = 1): void {
    this.requests += requests
    this.errors += errors
    if (histogram === null) return
    if ('indices' in histogram) {
      this.#stored.add(histogram)
      this.#storedSeconds += seconds
    } else {
      this.#live ??= newMergeHistogram()
      this.#live.add(histogram)
      this.#pool.push(...samplesOf(histogram))
    }
    this.#merged = undefined
  }

  /** Every latency added, live and stored, in one histogram. */
  histogram(): Histogram {
    if (this.#merged !== undefined) return this.#merged
    const merged = this.#stored.histogram()
    if (this.#live !== undefined && this.#live.totalCount > 0) merged.add(this.#live)
    return (this.#merged = merged)
  }

  toArmWindow(): ArmWindow {
    const merged = this.histogram()
    const count = merged.totalCount
    const ms = (p: number) => (count === 0 ? 0 : merged.getValueAtPercentile(p) / 1000)
    return {
      requests: this.requests,
      errors: this.errors,
      successes: this.requests - this.errors,
      latency: { p50: ms(50), p95: ms(95), p99: ms(99), mean: count === 0 ? 0 : meanOf(merged) / 1000, count },
      samples: this.#samples(),
    }
  }

  /** Live samples and stored quantiles in proportion, at most MAX_WINDOW_SAMPLES. */
  #samples(): number[] {
    const live = this.#pool.length
    const stored = Math.min(this.#stored.total, SAMPLES_PER_STORED_SECOND * this.#storedSeconds)
    const scale = Math.min(1, MAX_WINDOW_SAMPLES / Math.max(1, live + stored))
    const keepStored = Math.round(stored * scale)
    const keepLive = Math.min(live, MAX_WINDOW_SAMPLES - keepStored)
    const pool = keepLive < live ? subsample(this.#pool, keepLive) : [...this.#pool]
    for (const v of this.#stored.quantiles(keepStored)) pool.push(v / 1000)
    return pool
  }
}

/** An unbiased random subsample of `n` values (partial Fisher-Yates on a copy). */
function subsample(values: readonly number[], n: number): number[] {
  const pool = [...values]
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (pool.length - i))
    const t = pool[i]!
    pool[i] = pool[j]!
    pool[j] = t
  }
  return pool.slice(0, n)
}

/** Latency samples (ms) standing for a histogram: `n` evenly spaced quantiles of it. */
export function samplesOf(histogram: Histogram, n = SAMPLES_PER_STORED_SECOND): number[] {
  const count = Math.min(n, histogram.totalCount)
  const out: number[] = []
  for (let i = 0; i < count; i++) out.push(histogram.getValueAtPercentile(((i + 0.5) / count) * 100) / 1000)
  return out
}
