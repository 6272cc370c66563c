// Diffy-style noise cancellation across requests: per route and field, raw (legacy vs candidate),
// noise (legacy vs secondary legacy) and total counts decide whether a field is a real difference.
import type { Difference } from './diff.js'

export interface NoiseThresholds {
  readonly relative: number
  readonly absolute: number
}

export interface FieldCounts {
  raw: number
  noise: number
  total: number
}

/** SPEC 4: real only if raw > noise, |raw-noise|/(raw+noise) > relative and |raw-noise|/total > absolute. */
export function isReal(c: FieldCounts, t: NoiseThresholds): boolean {
  if (c.raw <= c.noise || c.total <= 0) return false
  const delta = Math.abs(c.raw - c.noise)
  return delta / (c.raw + c.noise) > t.relative && delta / c.total > t.absolute
}

/** `path kind` identifies a field row (compare_fields is keyed by path and kind). */
export function fieldId(d: Pick<Difference, 'field' | 'kind'>): string {
  return `${d.field}\u0000${d.kind}`
}

/** The distinct fields of a list of differences: a field counts once per request. */
export function distinctFields(ds: readonly Difference[]): Map<string, Difference> {
  const out = new Map<string, Difference>()
  for (const d of ds) if (!out.has(fieldId(d))) out.set(fieldId(d), d)
  return out
}

/** In-memory per-route field counts of this process, used to classify requests as they arrive. */
export class NoiseFilter {
  private readonly routes = new Map<string, { total: number; fields: Map<string, FieldCounts> }>()

  /** Count one compared request and the fields it differed in. */
  observe(routeKey: string, raw: readonly Difference[], noise: readonly Difference[]): void {
    let r = this.routes.get(routeKey)
    if (r === undefined) {
      r = { total: 0, fields: new Map() }
      this.routes.set(routeKey, r)
    }
    r.total++
    const fields = r.fields
    const bump = (id: string, key: 'raw' | 'noise'): void => {
      let c = fields.get(id)
      if (c === undefined) {
        c = { raw: 0, noise: 0, total: 0 }
        fields.set(id, c)
      }
      c[key]++
    }
    for (const id of distinctFields(raw).keys()) bump(id, 'raw')
    for (const id of distinctFields(noise).keys()) bump(id, 'noise')
  }

  /**
   * True when the field has been seen as noise on this route and the counts so far do not make it
   * real: a request that differs only there is noise even if its own secondary happened to agree.
   */
  isKnownNoise(routeKey: string, d: Difference, t: NoiseThresholds): boolean {
    const r = this.routes.get(routeKey)
    const c = r?.fields.get(fieldId(d))
    if (r === undefined || c === undefined || c.noise === 0) return false
    return !isReal({ ...c, total: r.total }, t)
  }
}
