// The diffs of a system as SPEC 4 shows them: per route the comparison counts and per field the raw
// and noise counts, whether the difference is real under the noise rule, and the stored samples.
import { matchRate } from '../compare/match-rate.js'
import type { SystemConfig } from '../config/schema.js'
import type { Store } from '../store/open.js'

export interface FieldDiff {
  readonly path: string
  readonly kind: string
  readonly raw: number
  readonly noise: number
  readonly total: number
  readonly real: boolean
  readonly samples: unknown[]
}

export interface RouteDiff {
  readonly route: string
  readonly compared: number
  readonly matches: number
  readonly mismatches: number
  readonly noiseOnly: number
  readonly skipped: number
  readonly candidateErrors: number
  readonly matchRate: number | null
  readonly fields: FieldDiff[]
}

/**
 * SPEC 4 noise rule: a field is a real difference only if raw > noise, the relative gap
 * |raw-noise|/(raw+noise) exceeds `relative` and the absolute gap |raw-noise|/total exceeds `absolute`.
 */
export function isRealDifference(raw: number, noise: number, total: number, thresholds: { relative: number; absolute: number }): boolean {
  if (raw <= noise || total <= 0) return false
  const gap = Math.abs(raw - noise)
  return gap / (raw + noise) > thresholds.relative && gap / total > thresholds.absolute
}

/** Upper bound on samples read per request, whatever samplesPerField says. */
const SAMPLE_READ_CAP = 5000

export async function systemDiffs(store: Store, system: SystemConfig): Promise<RouteDiff[]> {
  const [routeRows, fieldRows, sampleRows] = await Promise.all([
    store.db.selectFrom('compare_routes').selectAll().where('system', '=', system.name).orderBy('route').execute(),
    store.db.selectFrom('compare_fields').selectAll().where('system', '=', system.name).orderBy('route').orderBy('raw', 'desc').execute(),
    store.db
      .selectFrom('compare_samples')
      .selectAll()
      .where('system', '=', system.name)
      .orderBy('id', 'desc')
      .limit(SAMPLE_READ_CAP)
      .execute(),
  ])
  const perField = system.compare.samplesPerField
  const samples = new Map<string, unknown[]>()
  for (const s of sampleRows) {
    const key = `${s.route}\u0000${s.path}`
    const list = samples.get(key) ?? []
    if (list.length < perField) list.push(parseSample(s.sample))
    samples.set(key, list)
  }

  const routes = new Map<string, RouteDiff>()
  for (const r of routeRows) {
    const matches = Number(r.matches)
    const mismatches = Number(r.mismatches)
    routes.set(r.route, {
      route: r.route,
      compared: Number(r.compared),
      matches,
      mismatches,
      noiseOnly: Number(r.noise_only),
      skipped: Number(r.skipped),
      candidateErrors: Number(r.candidate_errors),
      matchRate: matchRate({ match: matches, mismatch: mismatches, noiseOnly: Number(r.noise_only) }),
      fields: [],
    })
  }
  for (const f of fieldRows) {
    let route = routes.get(f.route)
    if (route === undefined) {
      // Field counts may land before the route's aggregate row; show the field anyway.
      route = { route: f.route, compared: 0, matches: 0, mismatches: 0, noiseOnly: 0, skipped: 0, candidateErrors: 0, matchRate: null, fields: [] }
      routes.set(f.route, route)
    }
    const raw = Number(f.raw)
    const noise = Number(f.noise)
    const total = Number(f.total)
    route.fields.push({
      path: f.path,
      kind: f.kind,
      raw,
      noise,
      total,
      real: isRealDifference(raw, noise, total, system.compare.noise),
      samples: samples.get(`${f.route}\u0000${f.path}`) ?? [],
    })
  }
  return [...routes.values()].sort((a, b) => a.route.localeCompare(b.route))
}

function parseSample(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return { raw: text }
  }
}
