// What analysis reads from the gateway's metrics: per system and arm, over a time window.
import type { Arm } from '../domain/stages.js'

export interface ArmWindow {
  readonly requests: number
  /** 5xx answers plus transport failures (connect, timeout, reset). */
  readonly errors: number
  /** Non-error responses. */
  readonly successes: number
  readonly latency: {
    readonly p50: number
    readonly p95: number
    readonly p99: number
    readonly mean: number
    readonly count: number
  }
  /** Latency samples in ms (reservoir, bounded), for the Mann-Whitney judge. */
  readonly samples: readonly number[]
}

/** The gateway's own reader answers at once; the one merging every instance's windows reads the store. */
export type Awaitable<T> = T | Promise<T>

export interface MetricsReader {
  /** Requests served by each arm of `system` in [sinceMs, untilMs), all routes merged. */
  window(system: string, sinceMs: number, untilMs: number): Awaitable<Record<Arm, ArmWindow>>
  /** The same, per route template. */
  routes(system: string, sinceMs: number, untilMs: number): Awaitable<Array<{ route: string } & Record<Arm, ArmWindow>>>
}
