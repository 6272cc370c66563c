// Batched writes of comparison results: route and field aggregates, samples and per-interval windows are
// buffered in memory and flushed (every second) in one transaction of src/store/comparisons.ts, never one
// write per request.
import {
  sampleCounts,
  writeComparisons,
  type ComparisonWindow,
  type FieldCounts,
  type RouteCounts,
} from '../store/comparisons.js'
import type { Store } from '../store/open.js'
import type { ComparisonCounts } from './sink.js'
import type { ExchangeOutcome } from './compare-exchange.js'
import { distinctFields } from './noise.js'
import { addResult, emptyCounts } from './rolling-counts.js'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** Counts added to a route's stored counts since the last flush. */
type RouteDelta = Mutable<RouteCounts> & { readonly system: string }

/** Counts added to a field's stored counts since the last flush (its total comes from the route). */
type FieldDelta = Mutable<FieldCounts> & { readonly system: string }

interface SampleRow {
  system: string
  route: string
  path: string
  at: number
  sample: string
}

const key = (...parts: string[]): string => parts.join('\u0000')

export class DiffStore {
  private routes = new Map<string, RouteDelta>()
  private fields = new Map<string, FieldDelta>()
  private samples: SampleRow[] = []
  private skips = new Map<string, { system: string; route: string; reason: string; count: number }>()
  private windows = new Map<string, ReturnType<typeof emptyCounts>>()
  private windowStart = Date.now()
  /** Samples stored or pending per system/route/field, so samplesPerField is never exceeded. */
  private readonly sampleCounts = new Map<string, number>()
  private flushing: Promise<void> = Promise.resolve()

  constructor(private readonly store: Store) {}

  /** Learn how many samples each field already has (samples survive restarts). */
  async load(): Promise<void> {
    for (const r of await sampleCounts(this.store)) this.sampleCounts.set(key(r.system, r.route, r.path), r.count)
  }

  /** Whether a field of a route still wants examples. */
  wantsSample(system: string, route: string, field: string, limit: number): boolean {
    return (this.sampleCounts.get(key(system, route, field)) ?? 0) < limit
  }

  /** Fields of a route whose samples are complete (for work done where the counts are not at hand). */
  fullFields(system: string, route: string, limit: number): string[] {
    const prefix = key(system, route, '')
    const out: string[] = []
    for (const [k, n] of this.sampleCounts) if (n >= limit && k.startsWith(prefix)) out.push(k.slice(prefix.length))
    return out
  }

  record(
    system: string,
    route: string,
    outcome: Pick<ExchangeOutcome, 'result' | 'reason' | 'raw' | 'noise' | 'sample'>,
    at: number,
    samplesPerField: number,
  ): void {
    const rk = key(system, route)
    let r = this.routes.get(rk)
    if (r === undefined) {
      r = { system, route, compared: 0, matches: 0, mismatches: 0, noiseOnly: 0, skipped: 0, candidateErrors: 0 }
      this.routes.set(rk, r)
    }
    const res = outcome.result
    if (res === 'skipped') {
      r.skipped++
      const reason = outcome.reason ?? 'unknown'
      const sk = key(system, route, reason)
      const s = this.skips.get(sk)
      if (s) s.count++
      else this.skips.set(sk, { system, route, reason, count: 1 })
    } else {
      r.compared++
      if (res === 'match') r.matches++
      else if (res === 'mismatch') r.mismatches++
      else if (res === 'noise-only') r.noiseOnly++
      else r.candidateErrors++
    }
    let w = this.windows.get(system)
    if (w === undefined) {
      w = emptyCounts()
      this.windows.set(system, w)
    }
    addResult(w, res)

    const bump = (field: string, kind: string, col: 'raw' | 'noise'): void => {
      const fk = key(system, route, field, kind)
      let f = this.fields.get(fk)
      if (f === undefined) {
        f = { system, route, path: field, kind, raw: 0, noise: 0 }
        this.fields.set(fk, f)
      }
      f[col]++
    }
    const raw = distinctFields(outcome.raw)
    for (const d of raw.values()) bump(d.field, d.kind, 'raw')
    for (const d of distinctFields(outcome.noise).values()) bump(d.field, d.kind, 'noise')
    if (outcome.sample !== undefined) {
      const seen = new Set<string>()
      for (const d of raw.values()) {
        if (seen.has(d.field) || !this.wantsSample(system, route, d.field, samplesPerField)) continue
        seen.add(d.field)
        const sk = key(system, route, d.field)
        this.sampleCounts.set(sk, (this.sampleCounts.get(sk) ?? 0) + 1)
        this.samples.push({ system, route, path: d.field, at, sample: outcome.sample })
      }
    }
  }

  /** Write everything buffered so far in one transaction; calls never overlap. */
  flush(now = Date.now()): Promise<void> {
    this.flushing = this.flushing.then(() => this.write(now))
    return this.flushing
  }

  private async write(now: number): Promise<void> {
    const routes = [...this.routes.values()]
    const fields = [...this.fields.values()]
    const samples = this.samples
    const windows = [...this.windows.entries()]
    const skips = [...this.skips.values()]
    this.skips = new Map()
    const windowStart = this.windowStart
    this.routes = new Map()
    this.fields = new Map()
    this.samples = []
    this.windows = new Map()
    this.windowStart = now
    if (routes.length === 0 && samples.length === 0) return

    const windowRows = windows.map(([system, c]) => ({ system, windowStart, windowEnd: now, ...toColumns(c) }))
    await writeComparisons(this.store, { routes, fields, samples, skips, windows: windowRows }, now)
  }
}

function toColumns(c: ComparisonCounts): Omit<ComparisonWindow, 'windowStart' | 'windowEnd'> {
  return {
    matches: c.match,
    mismatches: c.mismatch,
    noiseOnly: c.noiseOnly,
    skipped: c.skipped,
    candidateErrors: c.candidateError,
  }
}
