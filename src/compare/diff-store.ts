// Batched writes of comparison results: route and field aggregates, samples and per-interval windows
// are buffered in memory and flushed in one transaction (every second), never one write per request.
import { sql } from 'kysely'
import type { Store } from '../store/open.js'
import type { CompareFieldTable, CompareRouteTable } from '../store/tables.js'
import type { ComparisonCounts } from './sink.js'
import type { ExchangeOutcome } from './compare-exchange.js'
import { distinctFields } from './noise.js'
import { addResult, emptyCounts } from './rolling-counts.js'

/** Counts added to a compare_routes row since the last flush. */
type RouteDelta = Omit<CompareRouteTable, 'updated_at'>

/** Counts added to a compare_fields row since the last flush (`total` comes from the route). */
type FieldDelta = Omit<CompareFieldTable, 'total' | 'updated_at'>

interface SampleRow {
  system: string
  route: string
  path: string
  at: number
  sample: string
}

const key = (...parts: string[]): string => parts.join('\u0000')

export class DiffStore {
  private routes = new Map<string, RouteDelta>()
  private fields = new Map<string, FieldDelta>()
  private samples: SampleRow[] = []
  private skips = new Map<string, { system: string; route: string; reason: string; count: number }>()
  private windows = new Map<string, ReturnType<typeof emptyCounts>>()
  private windowStart = Date.now()
  /** Samples stored or pending per system/route/field, so samplesPerField is never exceeded. */
  private readonly sampleCounts = new Map<string, number>()
  private flushing: Promise<void> = Promise.resolve()

  constructor(private readonly store: Store) {}

  /** Learn how many samples each field already has (samples survive restarts). */
  async load(): Promise<void> {
    const rows = await this.store.db
      .selectFrom('compare_samples')
      .select(['system', 'route', 'path', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['system', 'route', 'path'])
      .execute()
    for (const r of rows) this.sampleCounts.set(key(r.system, r.route, r.path), Number(r.n))
  }

  /** Whether a field of a route still wants examples. */
  wantsSample(system: string, route: string, field: string, limit: number): boolean {
    return (this.sampleCounts.get(key(system, route, field)) ?? 0) < limit
  }

  /** Fields of a route whose samples are complete (for work done where the counts are not at hand). */
  fullFields(system: string, route: string, limit: number): string[] {
    const prefix = key(system, route, '')
    const out: string[] = []
    for (const [k, n] of this.sampleCounts) if (n >= limit && k.startsWith(prefix)) out.push(k.slice(prefix.length))
    return out
  }

  record(system: string, route: string, outcome: Pick<ExchangeOutcome, 'result' | 'reason' | 'raw' | 'noise' | 'sample'>, at: number, samplesPerField: number): void {
    const rk = key(system, route)
    let r = this.routes.get(rk)
    if (r === undefined) {
      r = { system, route, compared: 0, matches: 0, mismatches: 0, noise_only: 0, skipped: 0, candidate_errors: 0 }
      this.routes.set(rk, r)
    }
    const res = outcome.result
    if (res === 'skipped') {
      r.skipped++
      const reason = outcome.reason ?? 'unknown'
      const sk = key(system, route, reason)
      const s = this.skips.get(sk)
      if (s) s.count++
      else this.skips.set(sk, { system, route, reason, count: 1 })
    } else {
      r.compared++
      if (res === 'match') r.matches++
      else if (res === 'mismatch') r.mismatches++
      else if (res === 'noise-only') r.noise_only++
      else r.candidate_errors++
    }
    let w = this.windows.get(system)
    if (w === undefined) {
      w = emptyCounts()
      this.windows.set(system, w)
    }
    addResult(w, res)

    const bump = (field: string, kind: string, col: 'raw' | 'noise'): void => {
      const fk = key(system, route, field, kind)
      let f = this.fields.get(fk)
      if (f === undefined) {
        f = { system, route, path: field, kind, raw: 0, noise: 0 }
        this.fields.set(fk, f)
      }
      f[col]++
    }
    const raw = distinctFields(outcome.raw)
    for (const d of raw.values()) bump(d.field, d.kind, 'raw')
    for (const d of distinctFields(outcome.noise).values()) bump(d.field, d.kind, 'noise')
    if (outcome.sample !== undefined) {
      const seen = new Set<string>()
      for (const d of raw.values()) {
        if (seen.has(d.field) || !this.wantsSample(system, route, d.field, samplesPerField)) continue
        seen.add(d.field)
        const sk = key(system, route, d.field)
        this.sampleCounts.set(sk, (this.sampleCounts.get(sk) ?? 0) + 1)
        this.samples.push({ system, route, path: d.field, at, sample: outcome.sample })
      }
    }
  }

  /** Write everything buffered so far in one transaction; calls never overlap. */
  flush(now = Date.now()): Promise<void> {
    this.flushing = this.flushing.then(() => this.write(now))
    return this.flushing
  }

  private async write(now: number): Promise<void> {
    const routes = [...this.routes.values()]
    const fields = [...this.fields.values()]
    const samples = this.samples
    const windows = [...this.windows.entries()]
    const skips = [...this.skips.values()]
    this.skips = new Map()
    const windowStart = this.windowStart
    this.routes = new Map()
    this.fields = new Map()
    this.samples = []
    this.windows = new Map()
    this.windowStart = now
    if (routes.length === 0 && samples.length === 0) return

    await this.store.db.transaction().execute(async (trx) => {
      for (const r of routes) {
        await trx
          .insertInto('compare_routes')
          .values({ ...r, updated_at: now })
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
        const comparable = r.matches + r.mismatches + r.noise_only
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
      for (const f of fields) {
        const rk = key(f.system, f.route)
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
          .values({ ...f, total: totals.get(rk) ?? 0, updated_at: now })
          .onConflict((oc) =>
            oc.columns(['system', 'route', 'path', 'kind']).doUpdateSet((eb) => ({
              raw: eb('compare_fields.raw', '+', eb.ref('excluded.raw')),
              noise: eb('compare_fields.noise', '+', eb.ref('excluded.noise')),
              updated_at: now,
            })),
          )
          .execute()
      }
      if (samples.length > 0) await trx.insertInto('compare_samples').values(samples).execute()
      for (const k of skips) {
        await trx
          .insertInto('compare_skips')
          .values({ ...k, updated_at: now })
          .onConflict((oc) =>
            oc.columns(['system', 'route', 'reason']).doUpdateSet((eb) => ({ count: eb('compare_skips.count', '+', eb.ref('excluded.count')), updated_at: now })),
          )
          .execute()
      }
      for (const [system, c] of windows) {
        await trx
          .insertInto('compare_windows')
          .values({ system, window_start: windowStart, window_end: now, ...toColumns(c) })
          .execute()
      }
    })
  }
}

function toColumns(c: ComparisonCounts): { matches: number; mismatches: number; noise_only: number; skipped: number; candidate_errors: number } {
  return { matches: c.match, mismatches: c.mismatch, noise_only: c.noiseOnly, skipped: c.skipped, candidate_errors: c.candidateError }
}
