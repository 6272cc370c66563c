// What shadow comparison found, per system: counts per route, per field and kind, redacted samples, skips
// by reason and per-interval windows. Written in batches by src/compare/diff-store.ts; read whole by the
// one diff report (src/compare/diff-report.ts) and summed per period for the program's KPIs.
import { sql } from 'kysely'
import type { Store } from './open.js'

/** Comparison outcomes of a route: added to its stored counts by a write, the stored totals on a read. */
export interface RouteCounts {
  readonly route: string
  /** Responses compared: matches + mismatches + noise-only + candidate errors (skipped excluded). */
  readonly compared: number
  readonly matches: number
  readonly mismatches: number
  readonly noiseOnly: number
  readonly skipped: number
  readonly candidateErrors: number
}

/** Differences of one field and kind on a route: raw and noise counts (a write adds to them). */
export interface FieldCounts {
  readonly route: string
  readonly path: string
  readonly kind: string
  readonly raw: number
  readonly noise: number
}

export interface StoredField extends FieldCounts {
  /** The route's comparable responses since the field was first seen (Diffy's denominator). */
  readonly total: number
}

export interface StoredSample {
  readonly route: string
  readonly path: string
  /** JSON text: { request, legacy, candidate, differences }, redacted before it was written. */
  readonly sample: string
}

export interface SkipCount {
  readonly route: string
  readonly reason: string
  readonly count: number
}

/** The outcomes of one flush interval of a system. */
export interface ComparisonWindow {
  readonly windowStart: number
  readonly windowEnd: number
  readonly matches: number
  readonly mismatches: number
  readonly noiseOnly: number
  readonly skipped: number
  readonly candidateErrors: number
}

type OfSystem<T> = T & { readonly system: string }

/** Everything buffered since the last write, for any number of systems. */
export interface ComparisonBatch {
  readonly routes: ReadonlyArray<OfSystem<RouteCounts>>
  readonly fields: ReadonlyArray<OfSystem<FieldCounts>>
  readonly samples: ReadonlyArray<OfSystem<StoredSample> & { readonly at: number }>
  readonly skips: ReadonlyArray<OfSystem<SkipCount>>
  readonly windows: ReadonlyArray<OfSystem<ComparisonWindow>>
}

/** All that is stored for one system: routes by name, fields, the newest samples (newest first), skips. */
export interface StoredComparisons {
  readonly routes: RouteCounts[]
  readonly fields: StoredField[]
  readonly samples: StoredSample[]
  readonly skips: SkipCount[]
}

/** Add a batch to the stored counts, in one transaction. */
export async function writeComparisons(store: Store, batch: ComparisonBatch, now: number): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    for (const r of batch.routes) {
      const values = {
        system: r.system,
        route: r.route,
        compared: r.compared,
        matches: r.matches,
        mismatches: r.mismatches,
        noise_only: r.noiseOnly,
        skipped: r.skipped,
        candidate_errors: r.candidateErrors,
        updated_at: now,
      }
      await trx
        .insertInto('compare_routes')
        .values(values)
        .onConflict((oc) =>
          oc.columns(['system', 'route']).doUpdateSet((eb) => ({
            compared: eb('compare_routes.compared', '+', eb.ref('excluded.compared')),
            matches: eb('compare_routes.matches', '+', eb.ref('excluded.matches')),
            mismatches: eb('compare_routes.mismatches', '+', eb.ref('excluded.mismatches')),
            noise_only: eb('compare_routes.noise_only', '+', eb.ref('excluded.noise_only')),
            skipped: eb('compare_routes.skipped', '+', eb.ref('excluded.skipped')),
            candidate_errors: eb('compare_routes.candidate_errors', '+', eb.ref('excluded.candidate_errors')),
            updated_at: now,
          })),
        )
        .execute()
      // Every field of a route has the route's compared responses as its total (Diffy's denominator).
      const comparable = r.matches + r.mismatches + r.noiseOnly
      if (comparable > 0) {
        await trx
          .updateTable('compare_fields')
          .set({ total: sql<number>`total + ${comparable}` })
          .where('system', '=', r.system)
          .where('route', '=', r.route)
          .execute()
      }
    }
    const totals = new Map<string, number>()
    for (const f of batch.fields) {
      const rk = `${f.system}\u0000${f.route}`
      if (!totals.has(rk)) {
        const row = await trx
          .selectFrom('compare_routes')
          .select(['matches', 'mismatches', 'noise_only'])
          .where('system', '=', f.system)
          .where('route', '=', f.route)
          .executeTakeFirst()
        totals.set(rk, row === undefined ? 0 : Number(row.matches) + Number(row.mismatches) + Number(row.noise_only))
      }
      await trx
        .insertInto('compare_fields')
        .values({
          system: f.system,
          route: f.route,
          path: f.path,
          kind: f.kind,
          raw: f.raw,
          noise: f.noise,
          total: totals.get(rk) ?? 0,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.columns(['system', 'route', 'path', 'kind']).doUpdateSet((eb) => ({
            raw: eb('compare_fields.raw', '+', eb.ref('excluded.raw')),
            noise: eb('compare_fields.noise', '+', eb.ref('excluded.noise')),
            updated_at: now,
          })),
        )
        .execute()
    }
    if (batch.samples.length > 0) {
      const samples = batch.samples.map((s) => ({
        system: s.system,
        route: s.route,
        path: s.path,
        at: s.at,
        sample: s.sample,
      }))
      await trx.insertInto('compare_samples').values(samples).execute()
    }
    for (const k of batch.skips) {
      await trx
        .insertInto('compare_skips')
        .values({ system: k.system, route: k.route, reason: k.reason, count: k.count, updated_at: now })
        .onConflict((oc) =>
          oc.columns(['system', 'route', 'reason']).doUpdateSet((eb) => ({
            count: eb('compare_skips.count', '+', eb.ref('excluded.count')),
            updated_at: now,
          })),
        )
        .execute()
    }
    for (const w of batch.windows) {
      await trx
        .insertInto('compare_windows')
        .values({
          system: w.system,
          window_start: w.windowStart,
          window_end: w.windowEnd,
          matches: w.matches,
          mismatches: w.mismatches,
          noise_only: w.noiseOnly,
          skipped: w.skipped,
          candidate_errors: w.candidateErrors,
        })
        .execute()
    }
  })
}

/** Samples stored per system, route and field (samples survive restarts; samplesPerField bounds them). */
export async function sampleCounts(
  store: Store,
): Promise<Array<{ system: string; route: string; path: string; count: number }>> {
  const rows = await store.db
    .selectFrom('compare_samples')
    .select(['system', 'route', 'path', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['system', 'route', 'path'])
    .execute()
  return rows.map((r) => ({ system: r.system, route: r.route, path: r.path, count: Number(r.n) }))
}

/**
 * Everything stored for a system in four set queries, whatever the number of routes and fields: routes
 * by name, fields, at most `sampleCap` samples (newest first), skips.
 */
export async function readComparisons(store: Store, system: string, sampleCap: number): Promise<StoredComparisons> {
  const [routes, fields, samples, skips] = await Promise.all([
    store.db.selectFrom('compare_routes').selectAll().where('system', '=', system).orderBy('route').execute(),
    store.db.selectFrom('compare_fields').selectAll().where('system', '=', system).execute(),
    store.db
      .selectFrom('compare_samples')
      .select(['route', 'path', 'sample'])
      .where('system', '=', system)
      // Newest first: after a fix lands, an operator wants today's examples, not the first ones seen.
      .orderBy('id', 'desc')
      .limit(sampleCap)
      .execute(),
    store.db.selectFrom('compare_skips').selectAll().where('system', '=', system).execute(),
  ])
  return {
    routes: routes.map((r) => ({
      route: r.route,
      compared: Number(r.compared),
      matches: Number(r.matches),
      mismatches: Number(r.mismatches),
      noiseOnly: Number(r.noise_only),
      skipped: Number(r.skipped),
      candidateErrors: Number(r.candidate_errors),
    })),
    fields: fields.map((f) => ({
      route: f.route,
      path: f.path,
      kind: f.kind,
      raw: Number(f.raw),
      noise: Number(f.noise),
      total: Number(f.total),
    })),
    samples,
    skips: skips.map((k) => ({ route: k.route, reason: k.reason, count: Number(k.count) })),
  }
}

/** Matches, mismatches and noise-only over the windows wholly within [from, until]. */
export async function comparisonTotals(
  store: Store,
  system: string,
  from: number,
  until: number,
): Promise<{ match: number; mismatch: number; noiseOnly: number }> {
  const row = await store.db
    .selectFrom('compare_windows')
    .select((eb) => [
      eb.fn.sum<number>('matches').as('matches'),
      eb.fn.sum<number>('mismatches').as('mismatches'),
      eb.fn.sum<number>('noise_only').as('noise_only'),
    ])
    .where('system', '=', system)
    .where('window_start', '>=', from)
    .where('window_end', '<=', until)
    .executeTakeFirst()
  return {
    match: Number(row?.matches ?? 0),
    mismatch: Number(row?.mismatches ?? 0),
    noiseOnly: Number(row?.noise_only ?? 0),
  }
}
