// Metrics of several instances through the store: what each instance writes per second (encoded HDR
// histograms) merges into exactly the percentiles of one histogram fed with every sample.
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../store/open.js'
import { readMetricSeconds } from '../store/metric-seconds.js'
import { decodeHistogram, encodeHistogram, newHistogram } from './histogram.js'
import { WindowAccumulator } from './arm-window.js'
import { MergedMetrics } from './merged-metrics.js'
import { parseStoredHistogram } from './stored-histogram.js'
import { MetricsWriter } from './metrics-writer.js'
import { RequestMetrics } from './request-metrics.js'

const T0 = 1_700_000_000_000
const stores: Store[] = []
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close()
})

/** One instance: its live metrics and its writer, on a clock the test moves. */
function instance(store: Store, id: string, clock: { now: number }) {
  const metrics = new RequestMetrics()
  const writer = new MetricsWriter({ store, instance: id, metrics, retentionMs: () => 3_600_000, now: () => clock.now })
  return { id, metrics, writer }
}

const percentiles = [50, 90, 95, 99, 99.9, 100]
const NO_COMPARISONS = { match: 0, mismatch: 0, noiseOnly: 0, skipped: 0, candidateError: 0 }

describe('merged metrics', () => {
  it('merging per-instance encoded histograms gives the percentiles of one histogram of all samples', () => {
    const sample = fc.record({
      instance: fc.integer({ min: 0, max: 9 }),
      micros: fc.integer({ min: 1, max: 30_000_000 }),
    })
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 400 }), (samples) => {
        const all = newHistogram()
        const parts = Array.from({ length: 10 }, () => newHistogram())
        for (const s of samples) {
          all.recordValue(s.micros)
          parts[s.instance]!.recordValue(s.micros)
        }
        const acc = new WindowAccumulator()
        for (const part of parts) {
          if (part.totalCount > 0) acc.addStored(part.totalCount, 0, parseStoredHistogram(encodeHistogram(part)))
        }
        const merged = acc.histogram()
        expect(merged.totalCount).toBe(all.totalCount)
        for (const p of percentiles) expect(merged.getValueAtPercentile(p)).toBe(all.getValueAtPercentile(p))
        expect(merged.mean).toBeCloseTo(all.mean, 6)
        // The library's own decode and merge agrees.
        const decoded = newHistogram()
        for (const part of parts) if (part.totalCount > 0) decoded.add(decodeHistogram(encodeHistogram(part)))
        for (const p of percentiles) expect(decoded.getValueAtPercentile(p)).toBe(all.getValueAtPercentile(p))
      }),
      { numRuns: 200 },
    )
  })

  it('reads every instance from the store, as one histogram fed with every request would answer', async () => {
    const sample = fc.record({
      instance: fc.integer({ min: 0, max: 2 }),
      second: fc.integer({ min: 0, max: 4 }),
      ms: fc.double({ min: 0.01, max: 5000, noNaN: true }),
      status: fc.constantFrom(200, 200, 200, 500, 0),
      route: fc.constantFrom('/a', '/b/:id'),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(sample, { minLength: 1, maxLength: 200 }), async (samples) => {
        const store = await openStore('sqlite::memory:')
        stores.push(store)
        const clock = { now: T0 }
        const instances = ['a', 'b', 'c'].map((id) => instance(store, id, clock))
        const all = newHistogram()
        let errors = 0
        for (const s of [...samples].sort((x, y) => x.second - y.second)) {
          clock.now = T0 + s.second * 1000
          instances[s.instance]!.metrics.route('api', s.route)['candidate'].record(s.status, s.ms, clock.now)
          all.recordValue(Math.max(1, Math.round(s.ms * 1000)))
          if (s.status === 0 || s.status >= 500) errors++
        }
        clock.now = T0 + 5000
        for (const i of instances) await i.writer.flush()
        // Read from the store alone, and as instance `a` would (its own seconds live, the others stored).
        const asA = new MergedMetrics({ store, instance: 'a', local: instances[0]!.metrics })
        const readers = [new MergedMetrics({ store }), asA]
        for (const reader of readers) {
          const w = (await reader.window('api', T0, T0 + 5000)).candidate
          expect(w).toMatchObject({ requests: samples.length, errors, successes: samples.length - errors })
          expect(w.latency.count).toBe(samples.length)
          expect(w.samples.length).toBeGreaterThan(0)
          expect(w.samples.every((v) => v > 0 && v <= (all.maxValue * 1.02) / 1000 + 0.001)).toBe(true)
          expect(w.latency.p50).toBe(all.getValueAtPercentile(50) / 1000)
          expect(w.latency.p95).toBe(all.getValueAtPercentile(95) / 1000)
          expect(w.latency.p99).toBe(all.getValueAtPercentile(99) / 1000)
          const routes = await reader.routes('api', T0, T0 + 5000)
          expect(routes.reduce((n, r) => n + r.candidate.requests, 0)).toBe(samples.length)
        }
      }),
      { numRuns: 25 },
    )
  })

  it('keeps late comparison results, merges them across instances, and prunes after the retention', async () => {
    const store = await openStore('sqlite::memory:')
    stores.push(store)
    const clock = { now: T0 }
    const a = instance(store, 'a', clock)
    const b = instance(store, 'b', clock)
    a.metrics.route('api', '/a').legacy.record(200, 5, T0)
    a.writer.recordComparison({ system: 'api', route: '/a', at: T0, result: 'match' })
    b.writer.recordComparison({ system: 'api', route: '/a', at: T0 + 10, result: 'mismatch' })
    clock.now = T0 + 1000
    await a.writer.flush()
    await b.writer.flush()
    // A result of the same second arriving later rewrites that second's comparison counts only.
    a.writer.recordComparison({ system: 'api', route: '/a', at: T0 + 20, result: 'match' })
    clock.now = T0 + 2000
    await a.writer.flush()
    const merged = new MergedMetrics({ store })
    const counts = (match: number, mismatch: number) => ({ ...NO_COMPARISONS, match, mismatch })
    expect(await merged.counts('api', T0, T0 + 1000)).toEqual(counts(2, 1))
    expect((await merged.window('api', T0, T0 + 1000)).legacy.requests).toBe(1)
    // With its own live counts (here none) instance b still sees a's stored ones.
    const own = { counts: () => counts(0, 1) }
    const asB = new MergedMetrics({ store, instance: 'b', local: b.metrics, localComparisons: () => own })
    expect((await asB.counts('api', T0, T0 + 1000)).match).toBe(2)

    // The first flush a minute later prunes seconds older than the retention (an hour here).
    clock.now = T0 + 3_600_000 + 61_000
    const c = instance(store, 'c', clock)
    c.metrics.route('api', '/a').legacy.record(200, 5, clock.now)
    clock.now += 1000
    await c.writer.flush()
    expect(await readMetricSeconds(store, 'api', 0, Number.MAX_SAFE_INTEGER)).toHaveLength(1)
  })
})
