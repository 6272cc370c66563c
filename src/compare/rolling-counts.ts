// Comparison results per system in one-second buckets, kept for an hour, so analysis can read the
// match rate of any recent window without touching the store.
import type { ComparisonCounts } from './sink.js'
import type { ComparisonResult } from './compare-exchange.js'

const BUCKET_MS = 1000
const KEEP_BUCKETS = 3600

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

export function emptyCounts(): Mutable<ComparisonCounts> {
  return { match: 0, mismatch: 0, noiseOnly: 0, skipped: 0, candidateError: 0 }
}

export function addResult(c: Mutable<ComparisonCounts>, result: ComparisonResult, n = 1): void {
  if (result === 'match') c.match += n
  else if (result === 'mismatch') c.mismatch += n
  else if (result === 'noise-only') c.noiseOnly += n
  else if (result === 'skipped') c.skipped += n
  else c.candidateError += n
}

export class RollingCounts {
  /** system -> bucket start (ms) -> counts */
  private readonly systems = new Map<string, Map<number, Mutable<ComparisonCounts>>>()

  add(system: string, at: number, result: ComparisonResult): void {
    let buckets = this.systems.get(system)
    if (buckets === undefined) {
      buckets = new Map()
      this.systems.set(system, buckets)
    }
    const start = Math.floor(at / BUCKET_MS) * BUCKET_MS
    let c = buckets.get(start)
    if (c === undefined) {
      c = emptyCounts()
      buckets.set(start, c)
      this.evict(buckets, start)
    }
    addResult(c, result)
  }

  /** Sum of the one-second buckets that overlap [sinceMs, untilMs). */
  counts(system: string, sinceMs: number, untilMs: number): ComparisonCounts {
    const out = emptyCounts()
    for (const [start, c] of this.systems.get(system) ?? []) {
      if (start + BUCKET_MS <= sinceMs || start >= untilMs) continue
      out.match += c.match
      out.mismatch += c.mismatch
      out.noiseOnly += c.noiseOnly
      out.skipped += c.skipped
      out.candidateError += c.candidateError
    }
    return out
  }

  private evict(buckets: Map<number, unknown>, newest: number): void {
    if (buckets.size <= KEEP_BUCKETS) return
    for (const start of buckets.keys()) if (start < newest - KEEP_BUCKETS * BUCKET_MS) buckets.delete(start)
  }
}
