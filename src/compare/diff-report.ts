// The stored diffs of one system in the SPEC 4 shape: per route the comparison counts, per field raw,
// noise and total counts, whether the field is a real difference, and its samples. Real fields first.
import type { SystemConfig } from '../config/schema.js'
import { readComparisons, type RouteCounts } from '../store/comparisons.js'
import type { Store } from '../store/open.js'
import { matchRate } from './match-rate.js'
import { isReal } from './noise.js'

export interface FieldReport {
  readonly path: string
  readonly kind: string
  readonly raw: number
  readonly noise: number
  readonly total: number
  readonly real: boolean
  readonly samples: unknown[]
}

/** A route's stored comparison totals, with why comparisons were skipped, the match rate and its fields. */
export interface RouteReport extends RouteCounts {
  /** Why comparisons were skipped: truncated, overloaded, queue-full, legacy-error ... */
  readonly skippedReasons: Record<string, number>
  /** Matches (noise-only included) over compared; null before any (see match-rate.ts). */
  readonly matchRate: number | null
  readonly fields: FieldReport[]
}

export interface DiffReport {
  readonly system: string
  readonly routes: RouteReport[]
}

/** Upper bound on sample rows read for one report, whatever samplesPerField says. */
const SAMPLE_READ_CAP = 5000

/** The one reader of stored diffs: the admin API, `tandem diffs`, the failure report and the demo use it. */
export async function readDiffReport(store: Store, system: SystemConfig): Promise<DiffReport> {
  const name = system.name
  const { routes, fields, samples, skips } = await readComparisons(store, name, SAMPLE_READ_CAP)
  const limit = system.compare.samplesPerField
  const samplesOf = new Map<string, unknown[]>()
  for (const s of samples) {
    const k = `${s.route}\u0000${s.path}`
    const list = samplesOf.get(k) ?? []
    if (list.length < limit) list.push(parseSample(s.sample))
    samplesOf.set(k, list)
  }
  const byRoute = new Map<string, RouteReport>()
  for (const r of routes) {
    const counts = { match: r.matches, mismatch: r.mismatches, noiseOnly: r.noiseOnly }
    byRoute.set(r.route, {
      route: r.route,
      compared: r.compared,
      matches: r.matches,
      mismatches: r.mismatches,
      noiseOnly: r.noiseOnly,
      skipped: r.skipped,
      skippedReasons: {},
      candidateErrors: r.candidateErrors,
      matchRate: matchRate(counts),
      fields: [],
    })
  }
  for (const f of fields) {
    // Field counts may land before their route's aggregate row: show the field anyway.
    let route = byRoute.get(f.route)
    if (route === undefined) {
      route = {
        route: f.route,
        compared: 0,
        matches: 0,
        mismatches: 0,
        noiseOnly: 0,
        skipped: 0,
        skippedReasons: {},
        candidateErrors: 0,
        matchRate: null,
        fields: [],
      }
      byRoute.set(f.route, route)
    }
    const counts = { raw: f.raw, noise: f.noise, total: f.total }
    route.fields.push({
      path: f.path,
      kind: f.kind,
      ...counts,
      real: isReal(counts, system.compare.noise),
      samples: samplesOf.get(`${f.route}\u0000${f.path}`) ?? [],
    })
  }
  for (const k of skips) {
    const route = byRoute.get(k.route)
    if (route !== undefined) route.skippedReasons[k.reason] = k.count
  }
  for (const r of byRoute.values()) {
    r.fields.sort((a, b) => Number(b.real) - Number(a.real) || b.raw - a.raw || a.path.localeCompare(b.path))
  }
  // Routes with real differences first, then by name.
  const list = [...byRoute.values()].sort(
    (a, b) => Number(hasReal(b)) - Number(hasReal(a)) || a.route.localeCompare(b.route),
  )
  return { system: name, routes: list }
}

function parseSample(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return { raw: text }
  }
}

export function hasReal(r: RouteReport): boolean {
  return r.fields.some((f) => f.real)
}
