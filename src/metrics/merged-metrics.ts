// The metrics of every instance on the store, merged (SPEC 11): this process's live buckets plus the
// seconds other instances wrote to metric_seconds; histograms are merged, never averaged percentiles.
import type { ComparisonCounts, ComparisonReader } from '../compare/sink.js'
import type { Store } from '../store/open.js'
import { readMetricSeconds, type StoredSecond } from '../store/metric-seconds.js'
import type { Arm } from '../domain/stages.js'
import { WindowAccumulator } from './arm-window.js'
import type { ArmWindow, MetricsReader } from './reader.js'
import type { RequestMetrics } from './request-metrics.js'
import { parseStoredHistogram } from './stored-histogram.js'

export interface MergedMetricsOptions {
  readonly store: Store
  /** This process's id and live metrics; without them every instance is read from the store. */
  readonly instance?: string
  readonly local?: RequestMetrics
  /** This process's comparison counts (the comparison engine), merged with the other instances'. */
  readonly localComparisons?: () => ComparisonReader | undefined
}

type Arms = Record<Arm, WindowAccumulator>
type RouteWindows = Array<{ route: string } & Record<Arm, ArmWindow>>
type TimedWindows = Array<{ start: number; end: number } & Record<Arm, ArmWindow>>

const newArms = (): Arms => ({ legacy: new WindowAccumulator(), candidate: new WindowAccumulator() })
const summary = (arms: Arms): Record<Arm, ArmWindow> => ({
  legacy: arms.legacy.toArmWindow(),
  candidate: arms.candidate.toArmWindow(),
})

/** How long one read of the store answers the same window again. */
const REUSE_MS = 250

export class MergedMetrics implements MetricsReader, ComparisonReader {
  readonly #o: MergedMetricsOptions
  #last: { key: string; at: number; rows: Promise<StoredSecond[]> } | undefined
  /** Stored histograms already parsed, by their encoded text (equal text, equal counts), with the newest second. */
  readonly #parsed = new Map<string, { second: number; value: ReturnType<typeof parseStoredHistogram> }>()
  #newest = 0

  constructor(options: MergedMetricsOptions) {
    this.#o = options
  }

  async window(system: string, sinceMs: number, untilMs: number): Promise<Record<Arm, ArmWindow>> {
    const arms = newArms()
    for (const { arm, buckets } of this.#o.local?.bucketsOf(system, sinceMs, untilMs) ?? []) {
      for (const b of buckets) arms[arm].add(b.requests, b.errors, b.histogram, b.samples)
    }
    for (const row of await this.#stored(system, sinceMs, untilMs)) this.#add(arms[row.arm], row)
    return summary(arms)
  }

  async routes(system: string, sinceMs: number, untilMs: number): Promise<RouteWindows> {
    const byRoute = new Map<string, Arms>()
    const of = (route: string): Arms => {
      let arms = byRoute.get(route)
      if (arms === undefined) byRoute.set(route, (arms = newArms()))
      return arms
    }
    for (const { route, arm, buckets } of this.#o.local?.bucketsOf(system, sinceMs, untilMs) ?? []) {
      const acc = of(route)[arm]
      for (const b of buckets) acc.add(b.requests, b.errors, b.histogram, b.samples)
    }
    for (const row of await this.#stored(system, sinceMs, untilMs)) this.#add(of(row.route)[row.arm], row)
    return [...byRoute].map(([route, arms]) => ({ route, ...summary(arms) }))
  }

  /**
   * Consecutive windows of `widthMs` from `sinceMs` to `untilMs` (charts), read with one store query.
   * A second belongs to the window its start falls in.
   */
  async windows(system: string, sinceMs: number, untilMs: number, widthMs: number): Promise<TimedWindows> {
    const out: Array<{ start: number; end: number; arms: Arms }> = []
    for (let start = sinceMs; start < untilMs; start += widthMs) {
      out.push({ start, end: Math.min(start + widthMs, untilMs), arms: newArms() })
    }
    const at = (second: number) => {
      const i = Math.floor((second * 1000 - sinceMs) / widthMs)
      return out[Math.min(out.length - 1, Math.max(0, i))]?.arms
    }
    for (const { arm, buckets } of this.#o.local?.bucketsOf(system, sinceMs, untilMs) ?? []) {
      for (const b of buckets) at(b.second)?.[arm].add(b.requests, b.errors, b.histogram, b.samples)
    }
    for (const row of await this.#stored(system, sinceMs, untilMs)) {
      const arms = at(row.second)
      if (arms !== undefined) this.#add(arms[row.arm], row)
    }
    return out.map(({ start, end, arms }) => ({ start, end, ...summary(arms) }))
  }

  async counts(system: string, sinceMs: number, untilMs: number): Promise<ComparisonCounts> {
    const own = await this.#o.localComparisons?.()?.counts(system, sinceMs, untilMs)
    const out = { match: 0, mismatch: 0, noiseOnly: 0, skipped: 0, candidateError: 0, ...own }
    for (const { counts: c } of await this.#stored(system, sinceMs, untilMs)) {
      out.match += c.match
      out.mismatch += c.mismatch
      out.noiseOnly += c.noiseOnly
      out.skipped += c.skipped
      out.candidateError += c.candidateError
    }
    return out
  }

  /** Add one stored second; its raw latency samples were not kept, so quantiles of its histogram stand in. */
  #add(acc: WindowAccumulator, row: StoredSecond): void {
    if (row.histogram === null) {
      acc.addStored(row.requests, row.errors, null)
      return
    }
    // Keyed on the encoded text itself: a row rewritten with other counts is simply another key.
    let cached = this.#parsed.get(row.histogram)
    if (cached === undefined) {
      cached = { second: row.second, value: parseStoredHistogram(row.histogram) }
      // Only recent seconds are worth keeping: the next tick reads them again; a chart of the past does not.
      if (row.second >= this.#newest - PARSED_KEEP_SECONDS) this.#parsed.set(row.histogram, cached)
    } else if (cached.second < row.second) cached.second = row.second
    acc.addStored(row.requests, row.errors, cached.value)
  }

  #evict(newestSecond: number): void {
    if (newestSecond <= this.#newest) return
    this.#newest = newestSecond
    for (const [key, entry] of this.#parsed) {
      if (entry.second < newestSecond - PARSED_KEEP_SECONDS) this.#parsed.delete(key)
    }
  }

  /** The whole seconds overlapping [sinceMs, untilMs) that other instances (or all, without `local`) wrote. */
  #stored(system: string, sinceMs: number, untilMs: number): Promise<StoredSecond[]> {
    const except = this.#o.local === undefined ? undefined : this.#o.instance
    const [from, to] = [Math.floor(sinceMs / 1000), Math.ceil(untilMs / 1000)]
    // A verdict reads the window and then its comparison counts: one query serves both.
    const key = `${system}\0${from}\0${to}`
    const now = Date.now()
    if (this.#last?.key === key && now - this.#last.at < REUSE_MS) return this.#last.rows
    const rows = readMetricSeconds(this.#o.store, system, from, to, except)
    this.#last = { key, at: now, rows }
    this.#evict(to)
    rows.catch(() => {
      if (this.#last?.rows === rows) this.#last = undefined
    })
    return rows
  }
}

/** Parsed histograms kept for seconds this far behind the newest one read (a tick reads a window twice). */
const PARSED_KEEP_SECONDS = 60
