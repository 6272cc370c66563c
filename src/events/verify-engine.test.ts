// Property tests of the verification core: whatever drops, duplicates, reorders and clock skew are applied
// to a copy, the engine reports exactly the dropped, added and duplicated ids, under any memory bound.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BucketTable, differingBuckets, hashId, sameBucket } from './bucket-hash.js'
import { classify, planPass } from './drill-down.js'
import { runVerification, type SideScan } from './verify-engine.js'

type Msg = { t: number; id: string }
const scanOf =
  (msgs: readonly Msg[]): SideScan =>
  async (visit) => {
    for (const m of msgs) visit(m.t, m.id)
  }
const opts = { bucketMs: 1000, toleranceMs: 200, maxIds: 1_000_000, since: -Infinity, until: Infinity }

/** The expected report, computed the naive way from whole-stream counts. */
function expected(old: readonly Msg[], neu: readonly Msg[]) {
  const counts = new Map<string, { old: number; new: number }>()
  for (const m of old) counts.set(m.id, { old: (counts.get(m.id)?.old ?? 0) + 1, new: 0 })
  for (const m of neu) {
    const c = counts.get(m.id) ?? { old: 0, new: 0 }
    counts.set(m.id, { old: c.old, new: c.new + 1 })
  }
  return classify(counts)
}

const scenario = fc
  .record({
    n: fc.integer({ min: 0, max: 300 }),
    drops: fc.array(fc.nat(), { maxLength: 10 }),
    dups: fc.array(fc.nat(), { maxLength: 10 }),
    extras: fc.integer({ min: 0, max: 5 }),
    skew: fc.array(fc.integer({ min: -150, max: 150 }), { minLength: 1, maxLength: 20 }),
    shuffleSeed: fc.nat(),
    maxIds: fc.integer({ min: 1, max: 400 }),
  })
  .map(({ n, drops, dups, extras, skew, shuffleSeed, maxIds }) => {
    const old: Msg[] = Array.from({ length: n }, (_, i) => ({ t: 10_000 + i * 37, id: `id-${i}` }))
    const dropped = new Set(n === 0 ? [] : drops.map((d) => d % n))
    let neu: Msg[] = old
      .filter((_, i) => !dropped.has(i))
      .map((m, i) => ({ t: m.t + skew[i % skew.length]!, id: m.id }))
    if (n > 0) for (const d of dups) neu.push({ ...old[d % n]!, t: old[d % n]!.t + 5 })
    for (let e = 0; e < extras; e++) neu.push({ t: 10_000 + e * 911, id: `extra-${e}` })
    // Deterministic shuffle: order must not matter.
    let s = shuffleSeed
    neu = neu
      .map((m) => ({ m, k: (s = (s * 1103515245 + 12345) % 2 ** 31) }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.m)
    return { old, neu, maxIds }
  })

describe('verification engine', () => {
  it('reports exactly the missing, extra and duplicated ids under skew, reordering and any memory bound', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ old, neu, maxIds }) => {
        const got = await runVerification(scanOf(old), scanOf(neu), { ...opts, maxIds })
        const want = expected(old, neu)
        expect({ missing: got.missing, extra: got.extra, duplicates: got.duplicates }).toEqual(want)
      }),
      { numRuns: 150 },
    )
  })

  it('needs only the aggregate pass when both sides hold the same messages in another order', async () => {
    const old = Array.from({ length: 1000 }, (_, i) => ({ t: i * 13, id: `m${i}` }))
    const got = await runVerification(scanOf(old), scanOf([...old].reverse()), opts)
    expect(got.passes).toBe(1)
    expect(got.differingBuckets).toBe(0)
    expect(got.oldCount).toBe(1000)
  })

  it('splits a differing bucket too large for one id set and still finds the single loss', async () => {
    const old = Array.from({ length: 5000 }, (_, i) => ({ t: i / 10, id: `m${i}` }))
    const neu = old.filter((m) => m.id !== 'm4321')
    const got = await runVerification(scanOf(old), scanOf(neu), {
      ...opts,
      bucketMs: 60_000,
      toleranceMs: 0,
      maxIds: 100,
    })
    expect(got.missing).toEqual(['m4321'])
    expect(got.extra).toEqual([])
    expect(got.passes).toBeGreaterThan(3)
  })

  it('leaves messages outside [since, until) out of the comparison', async () => {
    const old = Array.from({ length: 100 }, (_, i) => ({ t: i * 1000, id: `m${i}` }))
    const neu = old.filter((m) => m.id !== 'm5' && m.id !== 'm50')
    const got = await runVerification(scanOf(old), scanOf(neu), {
      ...opts,
      toleranceMs: 0,
      since: 20_000,
      until: 80_000,
    })
    expect(got.missing).toEqual(['m50'])
  })
})

describe('bucket hash', () => {
  it('is independent of insertion order and changes with any added or removed id', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 50 }), fc.string(), (ids, other) => {
        const a = new BucketTable()
        const b = new BucketTable()
        for (const id of ids) a.add(0, id)
        for (const id of [...ids].reverse()) b.add(0, id)
        expect(sameBucket(a.buckets.get(0), b.buckets.get(0))).toBe(true)
        b.add(0, other)
        expect(sameBucket(a.buckets.get(0), b.buckets.get(0))).toBe(false)
        expect(differingBuckets(a, b)).toEqual([0])
      }),
    )
  })

  it('tells a swapped pair of ids from the original (same count, different members)', () => {
    const a = new BucketTable()
    const b = new BucketTable()
    a.add(0, 'x')
    a.add(0, 'x')
    b.add(0, 'x')
    b.add(0, 'y')
    expect(sameBucket(a.buckets.get(0), b.buckets.get(0))).toBe(false)
  })

  it('spreads similar ids over different hashes', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 10_000; i++) seen.add(hashId(`order-${i}`).join(':'))
    expect(seen.size).toBe(10_000)
  })
})

describe('drill-down planning', () => {
  it('never puts more than maxIds in one pass except a single unsplittable range', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ w: fc.integer({ min: 1, max: 100 }), size: fc.integer({ min: 0, max: 500 }) }), {
          maxLength: 30,
        }),
        fc.integer({ min: 1, max: 600 }),
        (specs, maxIds) => {
          let start = 0
          const ranges = specs.map(({ w, size }) => {
            const r = { start, end: start + w, size }
            start += w + 1
            return r
          })
          const plan = planPass(ranges, maxIds)
          expect(plan.drill.length + plan.split.length + plan.later.length).toBe(ranges.length)
          const held = plan.drill.reduce((n, r) => n + r.size, 0)
          if (plan.drill.length > 1) expect(held).toBeLessThanOrEqual(maxIds)
          for (const r of plan.split) expect(r.size).toBeGreaterThan(maxIds)
          if (ranges.length > 0) expect(plan.drill.length + plan.split.length).toBeGreaterThan(0)
        },
      ),
    )
  })
})
