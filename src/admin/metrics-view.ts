// Metrics windows for charts, legacy vs candidate: live buckets from the gateway's MetricsReader, or
// the windows persisted in metric_windows (all routes merged).
import type { ArmWindow, MetricsReader } from '../metrics/reader.js'
import { readMetricWindows } from '../store/metric-windows.js'
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

export function liveWindows(reader: MetricsReader, system: string, since: number, until: number, step: number): MetricsPoint[] {
  const width = bucketStep(since, until, step)
  const points: MetricsPoint[] = []
  for (let start = since; start < until; start += width) {
    const end = Math.min(start + width, until)
    const w = reader.window(system, start, end)
    points.push({ start, end, legacy: fromLive(w.legacy), candidate: fromLive(w.candidate) })
  }
  return points
}

interface Acc {
  requests: number
  errors: number
  successes: number
  /** Request-weighted sums: merging percentiles across routes exactly needs the histograms, which are not stored. */
  weighted: { p50: number; p95: number; p99: number; mean: number }
  latencyWeight: number
}

const emptyAcc = (): Acc => ({ requests: 0, errors: 0, successes: 0, weighted: { p50: 0, p95: 0, p99: 0, mean: 0 }, latencyWeight: 0 })

function fromAcc(a: Acc): ArmPoint {
  const w = a.latencyWeight
  return {
    requests: a.requests,
    errors: a.errors,
    successes: a.successes,
    errorRate: a.requests > 0 ? a.errors / a.requests : null,
    p50: w > 0 ? a.weighted.p50 / w : null,
    p95: w > 0 ? a.weighted.p95 / w : null,
    p99: w > 0 ? a.weighted.p99 / w : null,
    mean: w > 0 ? a.weighted.mean / w : null,
  }
}

export async function storedWindows(store: Store, system: string, since: number, until: number): Promise<MetricsPoint[]> {
  const rows = await readMetricWindows(store, system, { since, until, limit: 50_000 })
  const buckets = new Map<number, { end: number; arms: Record<Arm, Acc> }>()
  for (const r of rows) {
    const start = r.windowStart
    const bucket = buckets.get(start) ?? { end: r.windowEnd, arms: { legacy: emptyAcc(), candidate: emptyAcc() } }
    buckets.set(start, bucket)
    const acc = bucket.arms[r.arm]
    const n = r.requests
    acc.requests += n
    acc.errors += r.errors
    acc.successes += r.successes
    if (r.p50Ms !== null && n > 0) {
      acc.weighted.p50 += r.p50Ms * n
      acc.weighted.p95 += (r.p95Ms ?? r.p50Ms) * n
      acc.weighted.p99 += (r.p99Ms ?? r.p95Ms ?? r.p50Ms) * n
      acc.weighted.mean += (r.meanMs ?? r.p50Ms) * n
      acc.latencyWeight += n
    }
  }
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .slice(-MAX_BUCKETS)
    .map(([start, b]) => ({ start, end: b.end, legacy: fromAcc(b.arms.legacy), candidate: fromAcc(b.arms.candidate) }))
}
