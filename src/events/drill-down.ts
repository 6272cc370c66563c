// The drill-down of `events verify`: which differing ranges to resolve by id this pass and which to split
// first (memory bound), per-id tallies inside ranges with a tolerance margin, and the final classification.
import { BucketTable, differingBuckets, type TimeRange } from './bucket-hash.js'

export type Side = 'old' | 'new'

export interface Duplicate {
  readonly id: string
  readonly old: number
  readonly new: number
}

export interface Findings {
  readonly missing: string[]
  readonly extra: string[]
  readonly duplicates: Duplicate[]
}

/** Sub-buckets a range too large to hold as an id set is split into, per pass. */
export const SPLIT_FACTOR = 16

export interface PassPlan {
  /** Resolved by id this pass (their sizes add up to at most maxIds, or a single unsplittable range). */
  readonly drill: TimeRange[]
  /** Too large: re-aggregated this pass in SPLIT_FACTOR sub-buckets. */
  readonly split: TimeRange[]
  /** Left for a later pass. */
  readonly later: TimeRange[]
}

export function planPass(pending: readonly TimeRange[], maxIds: number): PassPlan {
  const drill: TimeRange[] = []
  const split: TimeRange[] = []
  const later: TimeRange[] = []
  let budget = maxIds
  for (const r of pending) {
    if (r.size > maxIds && r.end - r.start > 1) split.push(r)
    else if (drill.length === 0 || r.size <= budget) {
      drill.push(r)
      budget -= r.size
    } else later.push(r)
  }
  return { drill, split, later }
}

/** Sub-bucket tables of one range being split. */
export class RangeSplit {
  readonly width: number
  readonly old = new BucketTable()
  readonly new = new BucketTable()
  constructor(readonly range: TimeRange) {
    this.width = Math.max(1, Math.ceil((range.end - range.start) / SPLIT_FACTOR))
  }

  add(side: Side, t: number, id: string): void {
    if (t < this.range.start || t >= this.range.end) return
    this[side].add(Math.floor((t - this.range.start) / this.width), id)
  }

  /**
   * The differing sub-ranges, each on its own: merging neighbours could rebuild the whole range and never
   * shrink it. Skew across sub-bucket edges is handled by the tolerance margin of the id tallies.
   */
  differing(): TimeRange[] {
    return differingBuckets(this.old, this.new).map((b) => ({
      start: this.range.start + b * this.width,
      end: Math.min(this.range.start + (b + 1) * this.width, this.range.end),
      size: Math.max(this.old.buckets.get(b)?.count ?? 0, this.new.buckets.get(b)?.count ?? 0),
    }))
  }
}

interface Tally {
  old: number
  new: number
  /** Some occurrence lies inside the range itself, not only in its tolerance margin. */
  core: boolean
}

/**
 * Per-id counts of both sides for messages in [start - tolerance, end + tolerance): a message whose clocks
 * put it just outside the range on one side is still seen, so skew is not reported as loss.
 */
export class RangeTally {
  private readonly ids = new Map<string, Tally>()
  constructor(
    readonly range: TimeRange,
    readonly tolerance: number,
  ) {}

  covers(t: number): boolean {
    return t >= this.range.start - this.tolerance && t < this.range.end + this.tolerance
  }

  add(side: Side, t: number, id: string): void {
    let tally = this.ids.get(id)
    if (tally === undefined) {
      tally = { old: 0, new: 0, core: false }
      this.ids.set(id, tally)
    }
    tally[side]++
    if (t >= this.range.start && t < this.range.end) tally.core = true
  }

  /** Ids whose counts differ and that belong to this range: candidates for the final census. */
  candidates(): string[] {
    const out: string[] = []
    for (const [id, t] of this.ids) if (t.core && t.old !== t.new) out.push(id)
    return out
  }
}

/** Exact classification from whole-window counts of each candidate id. */
export function classify(counts: ReadonlyMap<string, { old: number; new: number }>): Findings {
  const missing: string[] = []
  const extra: string[] = []
  const duplicates: Duplicate[] = []
  for (const [id, c] of counts) {
    if (c.old === c.new) continue
    if (c.new === 0) missing.push(id)
    else if (c.old === 0) extra.push(id)
    if (Math.max(c.old, c.new) > 1) duplicates.push({ id, old: c.old, new: c.new })
  }
  const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
  missing.sort(byId)
  extra.sort(byId)
  duplicates.sort((a, b) => byId(a.id, b.id))
  return { missing, extra, duplicates }
}

/** Finds the tallies whose margin-extended range holds time t (ranges sorted by start, disjoint). */
export function talliesAt(tallies: readonly RangeTally[], t: number): RangeTally[] {
  let lo = 0
  let hi = tallies.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (tallies[mid]!.range.end + tallies[mid]!.tolerance <= t) lo = mid + 1
    else hi = mid
  }
  const out: RangeTally[] = []
  for (let i = lo; i < tallies.length && tallies[i]!.range.start - tallies[i]!.tolerance <= t; i++)
    if (tallies[i]!.covers(t)) out.push(tallies[i]!)
  return out
}
