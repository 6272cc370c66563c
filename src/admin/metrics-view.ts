// Metrics windows for charts, legacy vs candidate: live (this process's buckets merged with the other
// instances' stored seconds), or only what the store holds (all instances, all routes merged).
import { MergedMetrics } from '../metrics/merged-metrics.js'
import type { ArmWindow, MetricsReader } from '../metrics/reader.js'
import type { Store } from '../store/open.js'
import type { Arm } from '../domain/stages.js'

export interface ArmPoint {
  readonly requests: number
  readonly errors: number
  readonly successes: number
  readonly errorRate: number | null
  readonly p50: number | null
  readonly p95: number | null
  readonly p99: number | null
  readonly mean: number | null
}

export interface MetricsPoint {
  readonly start: number
  readonly end: number
  readonly legacy: ArmPoint
  readonly candidate: ArmPoint
}

/** Charts never need more points than this; wider ranges get wider buckets. */
export const MAX_BUCKETS = 360

export function bucketStep(since: number, until: number, step: number): number {
  return Math.max(step, Math.ceil((until - since) / MAX_BUCKETS))
}

function fromLive(w: ArmWindow): ArmPoint {
  const some = w.latency.count > 0
  return {
    requests: w.requests,
    errors: w.errors,
    successes: w.successes,
    errorRate: w.requests > 0 ? w.errors / w.requests : null,
    p50: some ? w.latency.p50 : null,
    p95: some ? w.latency.p95 : null,
    p99: some ? w.latency.p99 : null,
    mean: some ? w.latency.mean : null,
  }
}

type TimedWindows = Array<{ start: number; end: number } & Record<Arm, ArmWindow>>

/** A reader that can answer a whole range of windows at once (one store query instead of one per window). */
interface RangeReader extends MetricsReader {
  windows?(system: string, since: number, until: number, width: number): Promise<TimedWindows>
}

export async function liveWindows(
  reader: RangeReader,
  system: string,
  since: number,
  until: number,
  step: number,
): Promise<MetricsPoint[]> {
  const width = bucketStep(since, until, step)
  if (reader.windows !== undefined) {
    const windows = await reader.windows(system, since, until, width)
    return windows.map((w) => ({ ...w, legacy: fromLive(w.legacy), candidate: fromLive(w.candidate) }))
  }
  const points: MetricsPoint[] = []
  for (let start = since; start < until; start += width) {
    const end = Math.min(start + width, until)
    const w = await reader.window(system, start, end)
    points.push({ start, end, legacy: fromLive(w.legacy), candidate: fromLive(w.candidate) })
  }
  return points
}

/**
 * The windows every instance wrote to the store (metric_seconds, kept for metrics.retention), merged:
 * counts add up and percentiles come from the merged histograms. Windows without requests are left out.
 */
export async function storedWindows(
  store: Store,
  system: string,
  since: number,
  until: number,
  step: number,
): Promise<MetricsPoint[]> {
  const points = await liveWindows(new MergedMetrics({ store }), system, since, until, step)
  return points.filter((p) => p.legacy.requests > 0 || p.candidate.requests > 0)
}
