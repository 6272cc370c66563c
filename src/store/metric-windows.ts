// The metric windows the controller persists every analysis interval (one row per system, route and arm
// that served requests), and every read of them: charts, failure reports and the program's KPIs.
import { sql } from 'kysely'
import type { Store } from './open.js'
import type { Arm } from '../domain/stages.js'

/** Counts and latency of one arm over a window, as the gateway's metrics measured them. */
export interface ArmCounts {
  readonly requests: number
  readonly errors: number
  readonly successes: number
  readonly latency: {
    readonly p50: number | null
    readonly p95: number | null
    readonly p99: number | null
    readonly mean: number | null
  }
}

export type RouteArms = { readonly route: string } & Readonly<Record<Arm, ArmCounts>>

/** Where the windows come from: src/metrics/reader.ts's `MetricsReader` is one (a promise when it reads the store). */
export interface WindowSource {
  routes(system: string, sinceMs: number, untilMs: number): ReadonlyArray<RouteArms> | Promise<ReadonlyArray<RouteArms>>
}

export interface StoredMetricWindow {
  readonly route: string
  readonly arm: Arm
  readonly windowStart: number
  readonly windowEnd: number
  readonly requests: number
  readonly errors: number
  readonly successes: number
  readonly p50Ms: number | null
  readonly p95Ms: number | null
  readonly p99Ms: number | null
  readonly meanMs: number | null
}

/** Which windows to read: those overlapping [since, until), and at most `limit` of them. */
export interface WindowQuery {
  readonly since?: number
  readonly until?: number
  readonly limit: number
  /** Keep the newest `limit` windows instead of the oldest. */
  readonly newest?: boolean
}

/** Per arm over a period: totals, and latency summed as mean x requests over windows that measured it. */
export interface ArmTotals {
  readonly arm: Arm
  readonly requests: number
  readonly successes: number
  readonly latencyTotal: number
  readonly latencyRequests: number
}

/** Persist the windows of [start, end) of every route and arm that served requests. */
export async function saveMetricWindows(
  store: Store,
  metrics: WindowSource,
  system: string,
  start: number,
  end: number,
): Promise<void> {
  const rows = (await metrics.routes(system, start, end)).flatMap((r) =>
    (['legacy', 'candidate'] as const)
      .filter((arm) => r[arm].requests > 0)
      .map((arm) => {
        const w = r[arm]
        return {
          system,
          route: r.route,
          arm,
          window_start: start,
          window_end: end,
          requests: w.requests,
          errors: w.errors,
          successes: w.successes,
          p50_ms: w.latency.p50,
          p95_ms: w.latency.p95,
          p99_ms: w.latency.p99,
          mean_ms: w.latency.mean,
        }
      }),
  )
  if (rows.length > 0) await store.db.insertInto('metric_windows').values(rows).execute()
}

/** End of the last persisted metric window of a system (0 when none), to continue without overlap. */
export async function lastMetricWindowEnd(store: Store, system: string): Promise<number> {
  const row = await store.db
    .selectFrom('metric_windows')
    .select((eb) => eb.fn.max('window_end').as('end'))
    .where('system', '=', system)
    .executeTakeFirst()
  return Number(row?.end ?? 0)
}

/** The stored windows of a system, oldest first, every route and arm. */
export async function readMetricWindows(
  store: Store,
  system: string,
  query: WindowQuery,
): Promise<StoredMetricWindow[]> {
  let q = store.db.selectFrom('metric_windows').selectAll().where('system', '=', system)
  if (query.since !== undefined) q = q.where('window_end', '>', query.since)
  if (query.until !== undefined) q = q.where('window_start', '<', query.until)
  const order = query.newest === true ? 'desc' : 'asc'
  const rows = await q.orderBy('window_start', order).orderBy('id', order).limit(query.limit).execute()
  if (query.newest === true) rows.reverse()
  return rows.map((r) => ({
    route: r.route,
    arm: r.arm,
    windowStart: Number(r.window_start),
    windowEnd: Number(r.window_end),
    requests: Number(r.requests),
    errors: Number(r.errors),
    successes: Number(r.successes),
    p50Ms: r.p50_ms === null ? null : Number(r.p50_ms),
    p95Ms: r.p95_ms === null ? null : Number(r.p95_ms),
    p99Ms: r.p99_ms === null ? null : Number(r.p99_ms),
    meanMs: r.mean_ms === null ? null : Number(r.mean_ms),
  }))
}

/** Per arm, the windows that lie wholly within [from, until]: summed in the store, not read row by row. */
export async function armTotals(store: Store, system: string, from: number, until: number): Promise<ArmTotals[]> {
  const rows = await store.db
    .selectFrom('metric_windows')
    .select((eb) => [
      'arm',
      eb.fn.sum<number>('requests').as('requests'),
      eb.fn.sum<number>('successes').as('successes'),
      sql<number>`sum(coalesce(mean_ms, 0) * requests)`.as('latency_total'),
      sql<number>`sum(case when mean_ms is null then 0 else requests end)`.as('latency_requests'),
    ])
    .where('system', '=', system)
    .where('window_start', '>=', from)
    .where('window_end', '<=', until)
    .groupBy('arm')
    .execute()
  return rows.map((r) => ({
    arm: r.arm,
    requests: Number(r.requests),
    successes: Number(r.successes),
    latencyTotal: Number(r.latency_total),
    latencyRequests: Number(r.latency_requests),
  }))
}

/** Each stored window of a system (all routes and arms together) with its request and success counts. */
export async function windowTotals(
  store: Store,
  system: string,
): Promise<Array<{ start: number; end: number; requests: number; successes: number }>> {
  const rows = await store.db
    .selectFrom('metric_windows')
    .select((eb) => [
      'window_start',
      'window_end',
      eb.fn.sum<number>('requests').as('requests'),
      eb.fn.sum<number>('successes').as('successes'),
    ])
    .where('system', '=', system)
    .groupBy(['window_start', 'window_end'])
    .execute()
  return rows.map((r) => ({
    start: Number(r.window_start),
    end: Number(r.window_end),
    requests: Number(r.requests),
    successes: Number(r.successes),
  }))
}
