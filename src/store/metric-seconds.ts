// Every instance's per-second metrics in the store (table metric_seconds, SPEC 11): the writer's batched
// upserts, the reads that analysis, the dashboard and reports merge across instances, and pruning.
import { sql } from 'kysely'
import type { Arm } from '../domain/stages.js'
import type { Store } from './open.js'
import type { MetricSecondTable } from './tables.js'

/** Comparison results of one second (the shape of compare/sink.ts's ComparisonCounts; the store imports no layer). */
export interface ComparisonCounts {
  readonly match: number
  readonly mismatch: number
  readonly noiseOnly: number
  readonly skipped: number
  readonly candidateError: number
}

/** Rows per INSERT statement: well under the bound-parameter limits of SQLite and PostgreSQL. */
const CHUNK = 200

/** One instance's requests of one second (written once the second is over). */
export interface RequestSecond {
  readonly system: string
  readonly route: string
  readonly arm: Arm
  /** Epoch seconds. */
  readonly second: number
  readonly requests: number
  readonly errors: number
  /** Encoded HDR histogram (see src/metrics/histogram.ts). */
  readonly histogram: string
}

/** One instance's comparison results of one second so far (rewritten while late results arrive). */
export interface ComparisonSecond {
  readonly system: string
  readonly route: string
  readonly second: number
  readonly counts: ComparisonCounts
}

export interface StoredSecond {
  readonly instance: string
  readonly route: string
  readonly arm: Arm
  readonly second: number
  readonly requests: number
  readonly errors: number
  readonly histogram: string | null
  readonly counts: ComparisonCounts
}

const ZERO_COMPARISONS = { matches: 0, mismatches: 0, noise_only: 0, skipped: 0, candidate_errors: 0 }
const ZERO_REQUESTS = { requests: 0, errors: 0, successes: 0, histogram: null }

/**
 * Write one flush of an instance in one transaction. Request columns and comparison columns are
 * upserted separately, each replacing only its own columns, so either may arrive first.
 */
export async function writeMetricSeconds(
  store: Store,
  instance: string,
  requests: readonly RequestSecond[],
  comparisons: readonly ComparisonSecond[],
): Promise<void> {
  if (requests.length === 0 && comparisons.length === 0) return
  const key = ['instance', 'system', 'route', 'arm', 'second'] as const
  await store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < requests.length; i += CHUNK) {
      const rows: MetricSecondTable[] = requests.slice(i, i + CHUNK).map((r) => ({
        instance,
        system: r.system,
        route: r.route,
        arm: r.arm,
        second: r.second,
        requests: r.requests,
        errors: r.errors,
        successes: r.requests - r.errors,
        histogram: r.histogram,
        ...ZERO_COMPARISONS,
      }))
      await trx
        .insertInto('metric_seconds')
        .values(rows)
        .onConflict((oc) =>
          oc.columns([...key]).doUpdateSet((eb) => ({
            requests: eb.ref('excluded.requests'),
            errors: eb.ref('excluded.errors'),
            successes: eb.ref('excluded.successes'),
            histogram: eb.ref('excluded.histogram'),
          })),
        )
        .execute()
    }
    for (let i = 0; i < comparisons.length; i += CHUNK) {
      const rows: MetricSecondTable[] = comparisons.slice(i, i + CHUNK).map((c) => ({
        instance,
        system: c.system,
        route: c.route,
        arm: 'candidate',
        second: c.second,
        ...ZERO_REQUESTS,
        matches: c.counts.match,
        mismatches: c.counts.mismatch,
        noise_only: c.counts.noiseOnly,
        skipped: c.counts.skipped,
        candidate_errors: c.counts.candidateError,
      }))
      await trx
        .insertInto('metric_seconds')
        .values(rows)
        .onConflict((oc) =>
          oc.columns([...key]).doUpdateSet((eb) => ({
            matches: eb.ref('excluded.matches'),
            mismatches: eb.ref('excluded.mismatches'),
            noise_only: eb.ref('excluded.noise_only'),
            skipped: eb.ref('excluded.skipped'),
            candidate_errors: eb.ref('excluded.candidate_errors'),
          })),
        )
        .execute()
    }
  })
}

/** A stored second without its histogram: the histogram's length stands for it (see readMetricSecondHeads). */
export interface StoredSecondHead extends Omit<StoredSecond, 'histogram'> {
  readonly histogramLength: number | null
}

/**
 * The stored seconds of `system` in [fromSecond, toSecond), of every instance but `exceptInstance`;
 * with `onlySeconds`, just those seconds of the range.
 */
export async function readMetricSeconds(
  store: Store,
  system: string,
  fromSecond: number,
  toSecond: number,
  exceptInstance?: string,
  onlySeconds?: readonly number[],
): Promise<StoredSecond[]> {
  if (onlySeconds?.length === 0) return []
  let query = store.db
    .selectFrom('metric_seconds')
    .select(['instance', 'route', 'arm', 'second', 'requests', 'errors', 'histogram', ...COMPARISON_COLUMNS])
    .where('system', '=', system)
    .where('second', '>=', fromSecond)
    .where('second', '<', toSecond)
  if (exceptInstance !== undefined) query = query.where('instance', '<>', exceptInstance)
  if (onlySeconds !== undefined) query = query.where('second', 'in', [...onlySeconds])
  const rows = await query.execute()
  return rows.map((r) => ({ ...head(r), histogram: r.histogram }))
}

/**
 * Like readMetricSeconds without the encoded histograms (the bulk of a row), each replaced by its length:
 * a reader that already decoded a row's histogram reads only this. Request columns are written once,
 * when their second is over, so key, counts and length tell a row it has already seen.
 */
export async function readMetricSecondHeads(
  store: Store,
  system: string,
  fromSecond: number,
  toSecond: number,
  exceptInstance?: string,
): Promise<StoredSecondHead[]> {
  let query = store.db
    .selectFrom('metric_seconds')
    .select(['instance', 'route', 'arm', 'second', 'requests', 'errors', ...COMPARISON_COLUMNS])
    .select(sql<number | string | null>`length(histogram)`.as('histogram_length'))
    .where('system', '=', system)
    .where('second', '>=', fromSecond)
    .where('second', '<', toSecond)
  if (exceptInstance !== undefined) query = query.where('instance', '<>', exceptInstance)
  const rows = await query.execute()
  return rows.map((r) => ({
    ...head(r),
    histogramLength: r.histogram_length === null ? null : Number(r.histogram_length),
  }))
}

const COMPARISON_COLUMNS = ['matches', 'mismatches', 'noise_only', 'skipped', 'candidate_errors'] as const

type HeadColumns = Pick<
  MetricSecondTable,
  'instance' | 'route' | 'arm' | 'second' | 'requests' | 'errors' | (typeof COMPARISON_COLUMNS)[number]
>

function head(r: { [K in keyof HeadColumns]: unknown } & { arm: Arm; instance: string; route: string }) {
  return {
    instance: r.instance,
    route: r.route,
    arm: r.arm,
    second: Number(r.second),
    requests: Number(r.requests),
    errors: Number(r.errors),
    counts: {
      match: Number(r.matches),
      mismatch: Number(r.mismatches),
      noiseOnly: Number(r.noise_only),
      skipped: Number(r.skipped),
      candidateError: Number(r.candidate_errors),
    },
  }
}

/** Delete the seconds before `beforeSecond` (every instance's); returns how many rows went. */
export async function pruneMetricSeconds(store: Store, beforeSecond: number): Promise<number> {
  const result = await store.db.deleteFrom('metric_seconds').where('second', '<', beforeSecond).executeTakeFirst()
  return Number(result.numDeletedRows)
}
