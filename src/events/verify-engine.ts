// The verification algorithm, independent of brokers: pass 1 keeps per-bucket count+hash of each side;
// later passes re-read only to resolve differing ranges (splitting those too big for an id set); a last
// census pass counts the candidate ids over the whole window so the classification is exact.
import { BucketTable, differingBuckets, mergeRuns, type TimeRange } from './bucket-hash.js'
import { classify, planPass, RangeSplit, RangeTally, talliesAt, type Findings, type Side } from './drill-down.js'

/** Feeds every message of one side as (agreed time ms, id); called once per pass. */
export type SideScan = (visit: (time: number, id: string) => void) => Promise<void>

export interface EngineOptions {
  readonly bucketMs: number
  readonly toleranceMs: number
  /** Most ids held in memory by one drill-down pass. */
  readonly maxIds: number
  readonly since: number
  readonly until: number
}

export interface EngineResult extends Findings {
  readonly oldCount: number
  readonly newCount: number
  readonly buckets: number
  readonly differingBuckets: number
  readonly passes: number
}

export async function runVerification(old: SideScan, neu: SideScan, o: EngineOptions): Promise<EngineResult> {
  const scans: Record<Side, SideScan> = { old, new: neu }
  const inWindow = (t: number): boolean => t >= o.since && t < o.until
  const tables: Record<Side, BucketTable> = { old: new BucketTable(), new: new BucketTable() }
  // The aggregate pass reads both sides at once (separate tables); the old side's failure is the one reported.
  const aggregated = await Promise.allSettled(
    (['old', 'new'] as const).map((side) =>
      scans[side]((t, id) => {
        if (inWindow(t)) tables[side].add(Math.floor(t / o.bucketMs), id)
      }),
    ),
  )
  for (const r of aggregated) if (r.status === 'rejected') throw r.reason
  const differing = differingBuckets(tables.old, tables.new)
  const bucketCount = new Set([...tables.old.buckets.keys(), ...tables.new.buckets.keys()]).size
  let pending: TimeRange[] = mergeRuns(differing, o.bucketMs, 0, tables.old, tables.new)
  let passes = 1
  const candidates = new Set<string>()
  while (pending.length > 0) {
    const plan = planPass(pending, o.maxIds)
    const tallies = plan.drill.map((r) => new RangeTally(r, o.toleranceMs))
    const splits = plan.split.map((r) => new RangeSplit(r))
    for (const side of ['old', 'new'] as const) {
      await scans[side]((t, id) => {
        if (t < o.since - o.toleranceMs || t >= o.until + o.toleranceMs) return
        for (const tally of talliesAt(tallies, t)) tally.add(side, t, id)
        for (const s of splits) s.add(side, t, id)
      })
    }
    passes++
    for (const tally of tallies) for (const id of tally.candidates()) candidates.add(id)
    pending = [...plan.later, ...splits.flatMap((s) => s.differing())].sort((a, b) => a.start - b.start)
  }
  let findings: Findings = { missing: [], extra: [], duplicates: [] }
  if (candidates.size > 0) {
    const counts = new Map<string, { old: number; new: number }>()
    for (const id of candidates) counts.set(id, { old: 0, new: 0 })
    for (const side of ['old', 'new'] as const) {
      await scans[side]((t, id) => {
        if (t < o.since - o.toleranceMs || t >= o.until + o.toleranceMs) return
        const c = counts.get(id)
        if (c !== undefined) c[side]++
      })
    }
    passes++
    findings = classify(counts)
  }
  return {
    ...findings,
    oldCount: tables.old.total,
    newCount: tables.new.total,
    buckets: bucketCount,
    differingBuckets: differing.length,
    passes,
  }
}
