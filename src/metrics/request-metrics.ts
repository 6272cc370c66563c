// Request metrics of the gateway: one Series per system x route template x arm, and the
// MetricsReader that analysis queries (windows merged from one-second HDR buckets).
import { newHistogram } from './histogram.js'
import type { Arm } from '../domain/stages.js'
import type { ArmWindow, MetricsReader } from './reader.js'
import { Series, type Bucket } from './series.js'

/** Samples returned per arm and window at most (bounded for the Mann-Whitney judge). */
export const MAX_WINDOW_SAMPLES = 2000

export class RequestMetrics implements MetricsReader {
  readonly #bySystem = new Map<string, Map<string, { legacy: Series; candidate: Series }>>()

  /** The series pair of a route; the gateway resolves it once per compiled route, not per request. */
  route(system: string, route: string): { legacy: Series; candidate: Series } {
    let routes = this.#bySystem.get(system)
    if (routes === undefined) this.#bySystem.set(system, (routes = new Map()))
    let pair = routes.get(route)
    if (pair === undefined) {
      pair = { legacy: new Series(system, route, 'legacy'), candidate: new Series(system, route, 'candidate') }
      routes.set(route, pair)
    }
    return pair
  }

  /** Every series, for the Prometheus exposition. */
  *all(): IterableIterator<Series> {
    for (const routes of this.#bySystem.values()) {
      for (const pair of routes.values()) {
        yield pair.legacy
        yield pair.candidate
      }
    }
  }

  window(system: string, sinceMs: number, untilMs: number): Record<Arm, ArmWindow> {
    const legacy: Bucket[] = []
    const candidate: Bucket[] = []
    const [from, to] = seconds(sinceMs, untilMs)
    for (const pair of this.#bySystem.get(system)?.values() ?? []) {
      legacy.push(...pair.legacy.buckets(from, to))
      candidate.push(...pair.candidate.buckets(from, to))
    }
    return { legacy: summarise(legacy), candidate: summarise(candidate) }
  }

  routes(system: string, sinceMs: number, untilMs: number): Array<{ route: string } & Record<Arm, ArmWindow>> {
    const [from, to] = seconds(sinceMs, untilMs)
    return [...(this.#bySystem.get(system)?.entries() ?? [])].map(([route, pair]) => ({
      route,
      legacy: summarise(pair.legacy.buckets(from, to)),
      candidate: summarise(pair.candidate.buckets(from, to)),
    }))
  }
}

function seconds(sinceMs: number, untilMs: number): [number, number] {
  return [Math.floor(sinceMs / 1000), Math.ceil(untilMs / 1000)]
}

function summarise(buckets: readonly Bucket[]): ArmWindow {
  let requests = 0
  let errors = 0
  const merged = newHistogram()
  let pool: number[] = []
  for (const b of buckets) {
    requests += b.requests
    errors += b.errors
    merged.add(b.histogram)
    for (const s of b.samples) pool.push(s)
  }
  // Keep the sample bounded: an unbiased subsample when the window holds more.
  if (pool.length > MAX_WINDOW_SAMPLES) {
    for (let i = 0; i < MAX_WINDOW_SAMPLES; i++) {
      const j = i + Math.floor(Math.random() * (pool.length - i))
      const t = pool[i]!
      pool[i] = pool[j]!
      pool[j] = t
    }
    pool = pool.slice(0, MAX_WINDOW_SAMPLES)
  }
  const count = merged.totalCount
  const ms = (p: number) => (count === 0 ? 0 : merged.getValueAtPercentile(p) / 1000)
  return {
    requests,
    errors,
    successes: requests - errors,
    latency: { p50: ms(50), p95: ms(95), p99: ms(99), mean: count === 0 ? 0 : merged.mean / 1000, count },
    samples: pool,
  }
}
