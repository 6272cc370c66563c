// Per-bucket aggregates for `events verify`: count plus an order-independent multiset hash (the sum of
// per-id 64-bit hashes, kept as two 32-bit lanes added mod 2^32), so reordering never changes a bucket
// and a dropped or duplicated id always does (up to a 2^-64 collision).

/** Aggregate of one bucket on one side. */
export interface BucketAgg {
  count: number
  /** Low and high 32-bit lanes of the sum of per-id hashes, mod 2^32 each. */
  lo: number
  hi: number
}

/** Two independent 32-bit hashes of an id (over UTF-16 code units, so every string hashes distinctly). */
export function hashId(id: string): [number, number] {
  let a = 0x811c9dc5 | 0
  let b = 0x9747b28c | 0
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995)
    b ^= b >>> 15
  }
  return [fmix32(a ^ id.length), fmix32(b + Math.imul(id.length, 0x27d4eb2d))]
}

function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Bucket aggregates of one side: bucket index -> aggregate. Memory: one entry per non-empty bucket. */
export class BucketTable {
  readonly buckets = new Map<number, BucketAgg>()

  add(bucket: number, id: string): void {
    const [x, y] = hashId(id)
    let agg = this.buckets.get(bucket)
    if (agg === undefined) {
      agg = { count: 0, lo: 0, hi: 0 }
      this.buckets.set(bucket, agg)
    }
    agg.count++
    agg.lo = (agg.lo + x) >>> 0
    agg.hi = (agg.hi + y) >>> 0
  }

  get total(): number {
    let n = 0
    for (const a of this.buckets.values()) n += a.count
    return n
  }
}

export function sameBucket(a: BucketAgg | undefined, b: BucketAgg | undefined): boolean {
  const ca = a?.count ?? 0
  const cb = b?.count ?? 0
  if (ca === 0 && cb === 0) return true
  return ca === cb && a!.lo === b!.lo && a!.hi === b!.hi
}

/** Bucket indexes whose count or hash differ between the two sides, ascending. */
export function differingBuckets(old: BucketTable, neu: BucketTable): number[] {
  const keys = new Set<number>([...old.buckets.keys(), ...neu.buckets.keys()])
  return [...keys].filter((k) => !sameBucket(old.buckets.get(k), neu.buckets.get(k))).sort((x, y) => x - y)
}

/** A half-open time range [start, end) in ms, with the larger of the two sides' message counts in it. */
export interface TimeRange {
  readonly start: number
  readonly end: number
  readonly size: number
}

/**
 * Merge adjacent differing buckets into ranges: a message whose time falls on either side of a bucket
 * edge (clock skew) makes both neighbours differ, and drilling them together sees it on both sides.
 */
export function mergeRuns(
  buckets: readonly number[],
  width: number,
  origin: number,
  old: BucketTable,
  neu: BucketTable,
): TimeRange[] {
  const out: TimeRange[] = []
  let i = 0
  while (i < buckets.length) {
    let j = i
    let size = Math.max(old.buckets.get(buckets[i]!)?.count ?? 0, neu.buckets.get(buckets[i]!)?.count ?? 0)
    while (j + 1 < buckets.length && buckets[j + 1] === buckets[j]! + 1) {
      j++
      size += Math.max(old.buckets.get(buckets[j]!)?.count ?? 0, neu.buckets.get(buckets[j]!)?.count ?? 0)
    }
    out.push({ start: origin + buckets[i]! * width, end: origin + (buckets[j]! + 1) * width, size })
    i = j + 1
  }
  return out
}
