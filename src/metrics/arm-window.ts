// Merges one-second metric buckets (this process's, or other instances' read from the store) into the
// ArmWindow analysis reads: counts add up, histograms merge, percentiles come from the merged histogram.
import { newHistogram, type Histogram } from './histogram.js'
import type { ArmWindow } from './reader.js'

/** Samples returned per arm and window at most (bounded for the Mann-Whitney judge). */
export const MAX_WINDOW_SAMPLES = 2000
/** Samples drawn from a stored second's histogram at most (the live reservoir keeps 64 per second). */
export const SAMPLES_PER_STORED_SECOND = 64

export class WindowAccumulator {
  requests = 0
  errors = 0
  readonly histogram = newHistogram()
  #pool: number[] = []

  /** Add one second of one series: counts, its latency histogram (microseconds) and latency samples (ms). */
  add(requests: number, errors: number, histogram: Histogram | null, samples: readonly number[]): void {
    this.requests += requests
    this.errors += errors
    if (histogram !== null) this.histogram.add(histogram)
    for (const s of samples) this.#pool.push(s)
  }

  toArmWindow(): ArmWindow {
    let pool = this.#pool
    // Keep the sample bounded: an unbiased subsample when the window holds more.
    if (pool.length > MAX_WINDOW_SAMPLES) {
      pool = [...pool]
      for (let i = 0; i < MAX_WINDOW_SAMPLES; i++) {
        const j = i + Math.floor(Math.random() * (pool.length - i))
        const t = pool[i]!
        pool[i] = pool[j]!
        pool[j] = t
      }
      pool = pool.slice(0, MAX_WINDOW_SAMPLES)
    }
    const merged = this.histogram
    const count = merged.totalCount
    const ms = (p: number) => (count === 0 ? 0 : merged.getValueAtPercentile(p) / 1000)
    return {
      requests: this.requests,
      errors: this.errors,
      successes: this.requests - this.errors,
      latency: { p50: ms(50), p95: ms(95), p99: ms(99), mean: count === 0 ? 0 : merged.mean / 1000, count },
      samples: pool,
    }
  }
}

/**
 * Latency samples (ms) standing for a stored second whose raw samples were not kept: `n` evenly spaced
 * quantiles of its histogram, so the Mann-Whitney judge sees the same distribution.
 */
export function samplesOf(histogram: Histogram, n = SAMPLES_PER_STORED_SECOND): number[] {
  const count = Math.min(n, histogram.totalCount)
  const out: number[] = []
  for (let i = 0; i < count; i++) out.push(histogram.getValueAtPercentile(((i + 0.5) / count) * 100) / 1000)
  return out
}
