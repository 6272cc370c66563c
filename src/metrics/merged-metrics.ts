// The metrics of every instance on the store, merged (SPEC 11): this process's live buckets plus the
// seconds other instances wrote to metric_seconds; histograms are merged, never averaged percentiles.
import type { ComparisonCounts, ComparisonReader } from '../compare/sink.js'
import type { Store } from '../store/open.js'
import { readMetricSecondDigests, readMetricSeconds, type StoredSecond } from '../store/metric-seconds.js'
import type { Arm } from '../domain/stages.js'
import { WindowAccumulator } from './arm-window.js'
import type { ArmWindow, MetricsReader } from './reader.js'
import type { RequestMetrics } from './request-metrics.js'
import type { Histogram } from './histogram.js'
import { parseStoredHistogram, sumStoredCounts, type StoredCounts } from './stored-histogram.js'

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

/** The stored rows of one series (route x arm) in one second, every instance's summed. */
interface SeriesSecond {
  readonly route: string
  readonly arm: Arm
  readonly requests: number
  readonly errors: number
  /** The summed counts of the rows in Tandem's layout, and how many rows they are. */
  readonly counts: StoredCounts | null
  readonly rows: number
  /** Histograms in another layout, added one by one. */
  readonly foreign: readonly Histogram[]
}

/** One stored second merged per series, with the signature of the rows it was built from. */
interface MergedSecond {
  readonly second: number
  readonly signature: string
  readonly series: readonly SeriesSecond[]
  /** The same summed per arm over every route (what window() and windows() read). */
  readonly arms: readonly SeriesSecond[]
}

interface StoredWindow {
  readonly seconds: readonly MergedSecond[]
  readonly comparisons: ComparisonCounts
}

const newArms = (): Arms => ({ legacy: new WindowAccumulator(), candidate: new WindowAccumulator() })
const summary = (arms: Arms): Record<Arm, ArmWindow> => ({
  legacy: arms.legacy.toArmWindow(),
  candidate: arms.candidate.toArmWindow(),
})

/** How long one read of the store answers the same window again. */
const REUSE_MS = 250
/** Merged seconds kept this far behind the newest one read (the next tick, status and dashboard reread them). */
const MERGED_KEEP_SECONDS = 60

/** What tells a second's rows from a later state of them: their number and the sums the digest query reads. */
const signatureOf = (d: {
  rows: number
  requests: number
  errors: number
  histograms: number
  histogramChars: number
}) => `${d.rows}/${d.requests}/${d.errors}/${d.histograms}/${d.histogramChars}`

export class MergedMetrics implements MetricsReader, ComparisonReader {
  readonly #o: MergedMetricsOptions
  #last: { key: string; at: number; rows: Promise<StoredWindow> } | undefined
  /**
   * Stored seconds already decoded and merged, by system and second. A tick reads each second's sums
   * (rows, counts, histogram lengths) and decodes only the seconds whose sums differ from what was merged.
   */
  readonly #merged = new Map<string, MergedSecond>()
  #newest = 0

  constructor(options: MergedMetricsOptions) {
    this.#o = options
  }

  async window(system: string, sinceMs: number, untilMs: number): Promise<Record<Arm, ArmWindow>> {
    const arms = newArms()
    for (const { arm, buckets } of this.#o.local?.bucketsOf(system, sinceMs, untilMs) ?? []) {
      for (const b of buckets) arms[arm].add(b.requests, b.errors, b.histogram, b.samples)
    }
    for (const s of (await this.#stored(system, sinceMs, untilMs)).seconds) {
      for (const series of s.arms) add(arms[series.arm], series)
    }
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
    for (const s of (await this.#stored(system, sinceMs, untilMs)).seconds) {
      for (const series of s.series) add(of(series.route)[series.arm], series)
    }
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
    for (const s of (await this.#stored(system, sinceMs, untilMs)).seconds) {
      const arms = at(s.second)
      if (arms !== undefined) for (const series of s.arms) add(arms[series.arm], series)
    }
    return out.map(({ start, end, arms }) => ({ start, end, ...summary(arms) }))
  }

  async counts(system: string, sinceMs: number, untilMs: number): Promise<ComparisonCounts> {
    const own = await this.#o.localComparisons?.()?.counts(system, sinceMs, untilMs)
    const out = { match: 0, mismatch: 0, noiseOnly: 0, skipped: 0, candidateError: 0, ...own }
    const c = (await this.#stored(system, sinceMs, untilMs)).comparisons
    out.match += c.match
    out.mismatch += c.mismatch
    out.noiseOnly += c.noiseOnly
    out.skipped += c.skipped
    out.candidateError += c.candidateError
    return out
  }

  /** The whole seconds overlapping [sinceMs, untilMs) that other instances (or all, without `local`) wrote. */
  #stored(system: string, sinceMs: number, untilMs: number): Promise<StoredWindow> {
    const [from, to] = [Math.floor(sinceMs / 1000), Math.ceil(untilMs / 1000)]
    // A verdict reads the window and then its comparison counts: one query serves both.
    const key = `${system}\0${from}\0${to}`
    const now = Date.now()
    if (this.#last?.key === key && now - this.#last.at < REUSE_MS) return this.#last.rows
    const rows = this.#load(system, from, to)
    this.#last = { key, at: now, rows }
    rows.catch(() => {
      if (this.#last?.rows === rows) this.#last = undefined
    })
    return rows
  }

  async #load(system: string, from: number, to: number): Promise<StoredWindow> {
    const except = this.#o.local === undefined ? undefined : this.#o.instance
    const digests = await readMetricSecondDigests(this.#o.store, system, from, to, except)
    const comparisons = { match: 0, mismatch: 0, noiseOnly: 0, skipped: 0, candidateError: 0 }
    for (const { counts } of digests) {
      comparisons.match += counts.match
      comparisons.mismatch += counts.mismatch
      comparisons.noiseOnly += counts.noiseOnly
      comparisons.skipped += counts.skipped
      comparisons.candidateError += counts.candidateError
    }
    const seconds: MergedSecond[] = []
    const missing: number[] = []
    for (const digest of digests) {
      const cached = this.#merged.get(`${system}\0${digest.second}`)
      if (cached !== undefined && cached.signature === signatureOf(digest)) seconds.push(cached)
      else missing.push(digest.second)
    }
    if (missing.length > 0) {
      // The range of the seconds to decode (no list of seconds in SQL: a chart may miss thousands).
      const first = missing.reduce((a, b) => Math.min(a, b))
      const last = missing.reduce((a, b) => Math.max(a, b))
      const wanted = new Set(missing)
      const rows = await readMetricSeconds(this.#o.store, system, first, last + 1, except)
      const bySecond = new Map<number, StoredSecond[]>()
      for (const r of rows) {
        if (!wanted.has(r.second)) continue
        let list = bySecond.get(r.second)
        if (list === undefined) bySecond.set(r.second, (list = []))
        list.push(r)
      }
      const keepFrom = Math.max(this.#newest, to) - MERGED_KEEP_SECONDS
      for (const [second, list] of bySecond) {
        const merged = mergeSecond(second, list)
        seconds.push(merged)
        if (second >= keepFrom) this.#merged.set(`${system}\0${second}`, merged)
      }
    }
    this.#evict(to)
    return { seconds, comparisons }
  }

  #evict(newestSecond: number): void {
    if (newestSecond <= this.#newest) return
    this.#newest = newestSecond
    for (const [key, entry] of this.#merged) {
      if (entry.second < newestSecond - MERGED_KEEP_SECONDS) this.#merged.delete(key)
    }
  }
}

/** Add one series' second; its raw latency samples were not kept, quantiles of its histograms stand in. */
function add(acc: WindowAccumulator, series: SeriesSecond): void {
  acc.addStored(series.requests, series.errors, series.counts, series.rows)
  for (const h of series.foreign) acc.addStored(0, 0, h)
}

/** Every stored row of one second, decoded and summed per series. */
function mergeSecond(second: number, rows: readonly StoredSecond[]): MergedSecond {
  const bySeries = new Map<
    string,
    { route: string; arm: Arm; requests: number; errors: number; own: StoredCounts[]; foreign: Histogram[] }
  >()
  const sums = { rows: rows.length, requests: 0, errors: 0, histograms: 0, histogramChars: 0 }
  for (const r of rows) {
    sums.requests += r.requests
    sums.errors += r.errors
    if (r.histogram !== null) {
      sums.histograms++
      sums.histogramChars += r.histogram.length
    }
    const key = `${r.route}\0${r.arm}`
    let s = bySeries.get(key)
    if (s === undefined)
      bySeries.set(key, (s = { route: r.route, arm: r.arm, requests: 0, errors: 0, own: [], foreign: [] }))
    s.requests += r.requests
    s.errors += r.errors
    if (r.histogram === null) continue
    const parsed = parseStoredHistogram(r.histogram)
    if ('indices' in parsed) s.own.push(parsed)
    else s.foreign.push(parsed)
  }
  const series = [...bySeries.values()].map((s) => summed(s.route, s.arm, [s]))
  const arms = (['legacy', 'candidate'] as const).map((arm) =>
    summed(
      '',
      arm,
      [...bySeries.values()].filter((s) => s.arm === arm),
    ),
  )
  return { second, signature: signatureOf(sums), series, arms }
}

/** Series of one second summed into one (a route's, or an arm's over every route). */
function summed(
  route: string,
  arm: Arm,
  parts: ReadonlyArray<{ requests: number; errors: number; own: StoredCounts[]; foreign: Histogram[] }>,
): SeriesSecond {
  const own = parts.flatMap((p) => p.own)
  return {
    route,
    arm,
    requests: parts.reduce((n, p) => n + p.requests, 0),
    errors: parts.reduce((n, p) => n + p.errors, 0),
    counts: own.length === 0 ? null : sumStoredCounts(own),
    rows: own.length,
    foreign: parts.flatMap((p) => p.foreign),
  }
}
