// Redaction of everything a sample keeps, applied before anything is stored: the authorization, cookie,
// set-cookie and x-api-key headers and the secret-named query parameters of the request URL always, plus
// compare.redact (`headers.NAME`, `query.NAME` and JSON Pointer globs for bodies).
import { redactSecrets } from '../redact.js'
import type { Difference } from './diff.js'
import { compileGlob, globCovers, parsePointer, type Glob, type Segment } from './pointer.js'
import type { Headers } from './normalize.js'

export const REDACTED = '[redacted]'
const ALWAYS = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization', 'x-api-key']

export interface Redaction {
  /** Lower-case header names. */
  readonly headers: ReadonlySet<string>
  /** Query parameters redacted besides those named like secrets (src/redact.ts). */
  readonly query: readonly string[]
  readonly body: readonly Glob[]
}

export function compileRedaction(entries: readonly string[]): Redaction {
  const headers = new Set(ALWAYS)
  const query: string[] = []
  const body: Glob[] = []
  for (const e of entries) {
    if (e.toLowerCase().startsWith('headers.')) headers.add(e.slice('headers.'.length).toLowerCase())
    else if (e.toLowerCase().startsWith('query.')) query.push(e.slice('query.'.length))
    else body.push(compileGlob(e))
  }
  return { headers, query, body }
}

/** The request URL (path and query) with secret query parameters masked. */
export function redactRequestUrl(r: Redaction, url: string): string {
  return redactSecrets(url, { params: r.query })
}

export function redactHeaders(r: Redaction, headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue
    out[k] = r.headers.has(k.toLowerCase()) ? REDACTED : v
  }
  return out
}

/** A copy of a JSON value with every covered path replaced; `base` is where the value sits. */
export function redactJson(r: Redaction, value: unknown, base: readonly Segment[] = []): unknown {
  if (r.body.length === 0) return value
  const path = [...base]
  const visit = (v: unknown): unknown => {
    if (r.body.some((g) => globCovers(g, path))) return REDACTED
    if (v === null || typeof v !== 'object') return v
    if (Array.isArray(v)) {
      return v.map((item, i) => {
        path.push(i)
        const out = visit(item)
        path.pop()
        return out
      })
    }
    const out: Record<string, unknown> = {}
    for (const [k, item] of Object.entries(v)) {
      path.push(k)
      out[k] = visit(item)
      path.pop()
    }
    return out
  }
  return visit(value)
}

/** Form bodies (a=1&password=x): keys are treated as top-level fields. */
export function redactForm(r: Redaction, text: string): string {
  const params = new URLSearchParams(text)
  for (const key of [...new Set(params.keys())]) {
    if (r.body.some((g) => globCovers(g, [key]))) params.set(key, REDACTED)
  }
  return params.toString()
}

/** Redact the two values of a difference, whether it is about a header or a body field. */
export function redactDifference(r: Redaction, d: Difference): Difference {
  if (d.path.startsWith('headers/')) {
    return r.headers.has(d.path.slice('headers/'.length))
      ? { ...d, legacy: mask(d.legacy), candidate: mask(d.candidate) }
      : d
  }
  if (d.path !== '' && !d.path.startsWith('/')) return d
  const base = parsePointer(d.path)
  return { ...d, legacy: redactJson(r, d.legacy, base), candidate: redactJson(r, d.candidate, base) }
}

function mask(v: unknown): unknown {
  return v === undefined ? undefined : REDACTED
}
