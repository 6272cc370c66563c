// Every instance's per-second metrics in the store (table metric_seconds, SPEC 11): the writer's batched
// upserts, the reads that analysis, the dashboard and reports merge across instances, and pruning.
import { sql } from 'kysely'
import type { Arm } from '../domain/stages.js'
import type { ComparisonCounts } from '../domain/comparisons.js'
import type { Store } from './open.js'
import type { MetricSecondTable } from './tables.js'

/** Comparison results of one second. */
export type { ComparisonCounts }

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

/** The rows of `system` in [fromSecond, toSecond), of every instance but `exceptInstance` (nothing selected yet). */
function secondsOf(store: Store, system: string, fromSecond: number, toSecond: number, exceptInstance?: string) {
  const query = store.db
    .selectFrom('metric_seconds')
    .where('system', '=', system)
    .where('second', '>=', fromSecond)
    .where('second', '<', toSecond)
  return exceptInstance === undefined ? query : query.where('instance', '<>', exceptInstance)
}

/** The stored seconds of `system` in [fromSecond, toSecond), of every instance but `exceptInstance`. */
export async function readMetricSeconds(
  store: Store,
  system: string,
  fromSecond: number,
  toSecond: number,
  exceptInstance?: string,
): Promise<StoredSecond[]> {
  const rows = await secondsOf(store, system, fromSecond, toSecond, exceptInstance)
    .select(['instance', 'route', 'arm', 'second', 'requests', 'errors', 'histogram', ...COMPARISON_COLUMNS])
    .execute()
  return rows.map((r) => ({ ...head(r), histogram: r.histogram }))
}

/** What one second of `system` holds, summed over its rows (see readMetricSecondDigests). */
export interface StoredSecondDigest {
  readonly second: number
  readonly rows: number
  readonly requests: number
  readonly errors: number
  /** Rows with a histogram, and the length of their encoded histograms together. */
  readonly histograms: number
  readonly histogramChars: number
  readonly counts: ComparisonCounts
}

/**
 * Per second of [fromSecond, toSecond), the sums of its rows (every instance's but `exceptInstance`), without
 * the encoded histograms: a reader that decoded a second's rows before rereads them only when these change.
 * Request columns are written once, when their second is over; a late instance's rows change the sums.
 */
export async function readMetricSecondDigests(
  store: Store,
  system: string,
  fromSecond: number,
  toSecond: number,
  exceptInstance?: string,
): Promise<StoredSecondDigest[]> {
  const query = secondsOf(store, system, fromSecond, toSecond, exceptInstance).select((eb) => [
    'second',
    eb.fn.countAll().as('rows'),
    eb.fn.sum('requests').as('requests'),
    eb.fn.sum('errors').as('errors'),
    eb.fn.count('histogram').as('histograms'),
    sql<number | string | null>`sum(length(histogram))`.as('histogram_chars'),
    eb.fn.sum('matches').as('matches'),
    eb.fn.sum('mismatches').as('mismatches'),
    eb.fn.sum('noise_only').as('noise_only'),
    eb.fn.sum('skipped').as('skipped'),
    eb.fn.sum('candidate_errors').as('candidate_errors'),
  ])
  const rows = await query.groupBy('second').execute()
  return rows.map((r) => ({
    second: Number(r.second),
    rows: Number(r.rows),
    requests: Number(r.requests),
    errors: Number(r.errors),
    histograms: Number(r.histograms),
    histogramChars: Number(r.histogram_chars ?? 0),
    counts: {
      match: Number(r.matches),
      mismatch: Number(r.mismatches),
      noiseOnly: Number(r.noise_only),
      skipped: Number(r.skipped),
      candidateError: Number(r.candidate_errors),
    },
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
