// Request metrics of the gateway: one Series per system x route template x arm, and the
// MetricsReader that analysis queries (windows merged from one-second HDR buckets).
import { MAX_WINDOW_SAMPLES, WindowAccumulator } from './arm-window.js'
import type { Arm } from '../domain/stages.js'
import type { ArmWindow, MetricsReader } from './reader.js'
import { Series, type Bucket } from './series.js'

export { MAX_WINDOW_SAMPLES }

export interface RouteBuckets {
  readonly route: string
  readonly arm: Arm
  readonly buckets: Bucket[]
}

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

  /** The one-second buckets of every route and arm of `system` in [sinceMs, untilMs) (whole seconds). */
  *bucketsOf(system: string, sinceMs: number, untilMs: number): IterableIterator<RouteBuckets> {
    const [from, to] = seconds(sinceMs, untilMs)
    for (const [route, pair] of this.#bySystem.get(system) ?? []) {
      yield { route, arm: 'legacy', buckets: pair.legacy.buckets(from, to) }
      yield { route, arm: 'candidate', buckets: pair.candidate.buckets(from, to) }
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
  const acc = new WindowAccumulator()
  for (const b of buckets) acc.add(b.requests, b.errors, b.histogram, b.samples)
  return acc.toArmWindow()
}
