// One latency/error series (system x route x arm): cumulative counters for Prometheus and a ring of
// one-second HDR buckets kept ~15 minutes, merged on query for analysis.
import { newHistogram as buildHistogram, type Histogram } from './histogram.js'
import type { Arm } from '../domain/stages.js'

/** Seconds of history kept; older buckets are overwritten. */
export const RETENTION_SECONDS = 900
/** Latency samples kept per one-second bucket (reservoir), for the Mann-Whitney judge. */
export const SAMPLES_PER_SECOND = 64
/** Prometheus histogram bounds, in seconds. */
export const PROM_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const

/** Status classes counted for `tandem_requests_total{status}`; index 0 is a transport failure. */
export const STATUS_CLASSES = ['error', '1xx', '2xx', '3xx', '4xx', '5xx'] as const

export interface Bucket {
  second: number
  requests: number
  errors: number
  /** Microseconds. */
  histogram: Histogram
  samples: number[]
  seen: number
}

function newHistogram(packed: boolean): Histogram {
  return buildHistogram(packed ? 'packed' : 32)
}

export class Series {
  readonly system: string
  readonly route: string
  readonly arm: Arm
  /** Cumulative counts per status class (see STATUS_CLASSES). */
  readonly statusCounts = new Float64Array(STATUS_CLASSES.length)
  /** Non-cumulative counts per PROM_BOUNDS bucket plus +Inf at the end. */
  readonly promBuckets = new Float64Array(PROM_BOUNDS.length + 1)
  promSum = 0
  promCount = 0
  // The second being recorded uses a fast 32-bit histogram; finished seconds are packed to save memory.
  #current: Bucket
  readonly #ring: (Bucket | undefined)[] = new Array(RETENTION_SECONDS)
  /**
   * The last finished second also kept in its fast 32-bit form (swapped, not copied, at rotation): the
   * store writer encodes it ten times faster than the packed copy in the ring.
   */
  #finished: { second: number; histogram: Histogram } | undefined

  constructor(system: string, route: string, arm: Arm) {
    this.system = system
    this.route = route
    this.arm = arm
    this.#current = { second: -1, requests: 0, errors: 0, histogram: newHistogram(false), samples: [], seen: 0 }
  }

  /** Record one upstream call; `status` 0 means a transport failure (connect, reset, timeout). */
  record(status: number, durationMs: number, nowMs: number): void {
    const second = Math.floor(nowMs / 1000)
    const cur = this.#current
    if (cur.second !== second) this.#rotate(second)
    const error = status === 0 || status >= 500
    cur.requests++
    if (error) cur.errors++
    const micros = Math.max(1, Math.round(durationMs * 1000))
    cur.histogram.recordValue(micros)
    // Reservoir sampling keeps an unbiased, bounded sample of this second's latencies.
    cur.seen++
    if (cur.samples.length < SAMPLES_PER_SECOND) cur.samples.push(durationMs)
    else {
      const j = Math.floor(Math.random() * cur.seen)
      if (j < SAMPLES_PER_SECOND) cur.samples[j] = durationMs
    }
    this.statusCounts[status === 0 ? 0 : Math.min(5, Math.floor(status / 100))]! += 1
    const seconds = durationMs / 1000
    let i = 0
    while (i < PROM_BOUNDS.length && seconds > PROM_BOUNDS[i]!) i++
    this.promBuckets[i]! += 1
    this.promSum += seconds
    this.promCount++
  }

  /** The histogram of `bucket` in the form fastest to encode (the same counts either way). */
  encodable(bucket: Bucket): Histogram {
    return this.#finished?.second === bucket.second && bucket !== this.#current
      ? this.#finished.histogram
      : bucket.histogram
  }

  /** Buckets whose second lies in [fromSecond, toSecond). */
  buckets(fromSecond: number, toSecond: number): Bucket[] {
    const out: Bucket[] = []
    const cur = this.#current
    if (cur.second >= fromSecond && cur.second < toSecond && cur.requests > 0) out.push(cur)
    for (const b of this.#ring) {
      if (b !== undefined && b.second >= fromSecond && b.second < toSecond && b.second !== cur.second) out.push(b)
    }
    return out
  }

  #rotate(second: number): void {
    const cur = this.#current
    if (cur.requests > 0) {
      const packed = newHistogram(true)
      packed.add(cur.histogram)
      this.#ring[((cur.second % RETENTION_SECONDS) + RETENTION_SECONDS) % RETENTION_SECONDS] = {
        second: cur.second,
        requests: cur.requests,
        errors: cur.errors,
        histogram: packed,
        samples: cur.samples,
        seen: cur.seen,
      }
      const spare = this.#finished?.histogram ?? newHistogram(false)
      spare.reset()
      this.#finished = { second: cur.second, histogram: cur.histogram }
      cur.histogram = spare
    }
    // A bucket older than the retention would be overwritten anyway; clear it so queries skip it.
    const slot = ((second % RETENTION_SECONDS) + RETENTION_SECONDS) % RETENTION_SECONDS
    if (this.#ring[slot] !== undefined && this.#ring[slot]!.second !== second) this.#ring[slot] = undefined
    cur.second = second
    cur.requests = 0
    cur.errors = 0
    cur.samples = []
    cur.seen = 0
  }
}
