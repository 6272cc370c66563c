// Compares one Exchange: status, the configured headers and the normalised bodies of legacy vs
// candidate, and legacy vs secondary legacy for per-request noise. Pure and synchronous, so it runs
// the same inline and in a worker thread.
import type { ArmResult, CapturedResponse, Exchange } from './sink.js'
import { compileDiffOptions, diff, type Difference, type DiffOptions, type DiffSettings } from './diff.js'
import { header, mediaType, normalizeBody, type NormalizedBody } from './normalize.js'
import {
  compileRedaction,
  redactDifference,
  redactForm,
  redactHeaders,
  redactJson,
  redactRequestUrl,
  type Redaction,
} from './redact.js'

export type ComparisonResult = 'match' | 'mismatch' | 'noise-only' | 'skipped' | 'candidate-error'

/** The compare keys of one system (SPEC 2), as the config holds them. */
export interface CompareConfig extends DiffSettings {
  readonly headers: readonly string[]
  readonly noise: { readonly relative: number; readonly absolute: number }
  readonly samplesPerField: number
  readonly redact: readonly string[]
}

export interface CompareSettings {
  readonly config: CompareConfig
  readonly diff: DiffOptions
  readonly headers: readonly string[]
  readonly redaction: Redaction
}

export function compileCompareSettings(config: CompareConfig): CompareSettings {
  return {
    config,
    diff: compileDiffOptions(config),
    headers: config.headers.map((h) => h.toLowerCase()),
    redaction: compileRedaction(config.redact),
  }
}

export interface ExchangeOutcome {
  readonly result: ComparisonResult
  /** Why a comparison was skipped or counted as a candidate error. */
  readonly reason?: string
  /** Legacy vs candidate, after `ignore`. */
  readonly raw: readonly Difference[]
  /** Primary vs secondary legacy: noise for this request. */
  readonly noise: readonly Difference[]
  /** raw minus the paths that were noise for this request. */
  readonly remaining: readonly Difference[]
  /** Redacted JSON text of { request, legacy, candidate, differences }, when differences exist. */
  readonly sample?: string
}

/** Bodies longer than this are cut in samples; the diff itself always sees the whole body. */
const SAMPLE_TEXT_LIMIT = 16 * 1024

/** `wantsSample` says whether a difference's field still needs examples; samples cost a copy. */
export function compareExchange(
  ex: Exchange,
  s: CompareSettings,
  wantsSample: (d: Difference) => boolean = () => true,
): ExchangeOutcome {
  const { legacy, candidate } = ex
  if (!legacy.ok) return skip(legacy.reason === 'queue-full' ? 'queue-full' : 'legacy-error')
  if (!candidate.ok) {
    if (candidate.reason === 'queue-full') return skip('queue-full')
    return { result: 'candidate-error', reason: candidate.reason, raw: [], noise: [], remaining: [] }
  }
  if (legacy.truncated || candidate.truncated) return skip('truncated')
  if (candidate.status >= 500 && legacy.status < 500) {
    return { result: 'candidate-error', reason: `status ${candidate.status}`, raw: [], noise: [], remaining: [] }
  }

  // Byte-identical bodies with the same encoding and type need no decoding or parsing.
  const sameBytes = sameEncoding(legacy, candidate) && legacy.body.equals(candidate.body)
  const legacyBody = sameBytes ? undefined : normalizeBody(legacy.headers, legacy.body)
  const candidateBody = sameBytes ? undefined : normalizeBody(candidate.headers, candidate.body)
  const raw = responseDiff(legacy, legacyBody, candidate, candidateBody, s)
  if (raw.length === 0) return { result: 'match', raw, noise: [], remaining: [] }
  return judgeNoise(
    ex,
    legacy,
    legacyBody ?? normalizeBody(legacy.headers, legacy.body),
    candidate,
    candidateBody ?? normalizeBody(candidate.headers, candidate.body),
    raw,
    s,
    wantsSample,
  )
}

function judgeNoise(
  ex: Exchange,
  legacy: CapturedResponse,
  legacyBody: NormalizedBody,
  candidate: CapturedResponse,
  candidateBody: NormalizedBody,
  raw: Difference[],
  s: CompareSettings,
  wantsSample: (d: Difference) => boolean,
): ExchangeOutcome {
  const secondary = usable(ex.secondary)
  const noise = secondary
    ? responseDiff(legacy, legacyBody, secondary, normalizeBody(secondary.headers, secondary.body), s)
    : []
  const remaining = noise.length === 0 ? raw : raw.filter((d) => !noise.some((n) => covers(n.path, d.path)))
  return {
    result: remaining.length === 0 ? 'noise-only' : 'mismatch',
    raw,
    noise,
    remaining,
    sample: raw.some(wantsSample)
      ? buildSample(ex, legacy, legacyBody, candidate, candidateBody, raw, s.redaction)
      : undefined,
  }
}

function skip(reason: string): ExchangeOutcome {
  return { result: 'skipped', reason, raw: [], noise: [], remaining: [] }
}

function usable(r: ArmResult | undefined): CapturedResponse | undefined {
  return r !== undefined && r.ok && !r.truncated ? r : undefined
}

/** A noise path hides itself and everything beneath it. */
function covers(noisePath: string, path: string): boolean {
  if (noisePath === path) return true
  if (noisePath === '') return path.startsWith('/')
  return path.startsWith(`${noisePath}/`)
}

function sameEncoding(a: CapturedResponse, b: CapturedResponse): boolean {
  return (
    header(a.headers, 'content-encoding') === header(b.headers, 'content-encoding') &&
    header(a.headers, 'content-type') === header(b.headers, 'content-type')
  )
}

/** Status, configured headers and bodies; undefined bodies are known to be byte-identical. */
export function responseDiff(
  a: CapturedResponse,
  aBody: NormalizedBody | undefined,
  b: CapturedResponse,
  bBody: NormalizedBody | undefined,
  s: CompareSettings,
): Difference[] {
  const out: Difference[] = []
  if (a.status !== b.status)
    out.push({ path: 'status', field: 'status', kind: 'changed', legacy: a.status, candidate: b.status })
  for (const name of s.headers) {
    const va = headerValue(a, name)
    const vb = headerValue(b, name)
    if (va === vb) continue
    const path = `headers/${name}`
    out.push({
      path,
      field: path,
      kind: va === undefined ? 'added' : vb === undefined ? 'removed' : 'changed',
      legacy: va,
      candidate: vb,
    })
  }
  if (aBody !== undefined && bBody !== undefined) out.push(...bodyDiff(aBody, bBody, s))
  return out
}

function headerValue(r: CapturedResponse, name: string): string | undefined {
  const v = header(r.headers, name)?.trim()
  // Media types are case-insensitive and spacing around `;` carries no meaning.
  return name === 'content-type' && v !== undefined ? v.toLowerCase().replace(/\s*;\s*/g, '; ') : v
}

function bodyDiff(a: NormalizedBody, b: NormalizedBody, s: CompareSettings): Difference[] {
  if (a.kind === 'json' && b.kind === 'json') return diff(a.value, b.value, s.diff)
  if (a.kind !== b.kind) return [{ path: '', field: '', kind: 'type', legacy: describe(a), candidate: describe(b) }]
  if (a.kind === 'text' && b.kind === 'text') {
    return a.text === b.text
      ? []
      : [{ path: '', field: '', kind: 'changed', legacy: clip(a.text), candidate: clip(b.text) }]
  }
  if (a.kind === 'binary' && b.kind === 'binary' && a.sha256 !== b.sha256) {
    return [{ path: '', field: '', kind: 'changed', legacy: describe(a), candidate: describe(b) }]
  }
  return []
}

function describe(b: NormalizedBody): unknown {
  if (b.kind === 'binary') return { sha256: b.sha256, size: b.size }
  return b.kind === 'text' ? clip(b.text) : b.value
}

function clip(text: string): string {
  return text.length > 1024 ? `${text.slice(0, 1024)}…` : text
}

function buildSample(
  ex: Exchange,
  legacy: CapturedResponse,
  legacyBody: NormalizedBody,
  candidate: CapturedResponse,
  candidateBody: NormalizedBody,
  differences: readonly Difference[],
  r: Redaction,
): string {
  const req = ex.request
  const requestBody =
    req.body === null || req.body.length === 0
      ? null
      : sampleBody(r, normalizeBody(req.headers, req.body), mediaType(req.headers))
  return JSON.stringify({
    at: ex.at,
    request: {
      method: req.method,
      url: redactRequestUrl(r, req.url),
      headers: redactHeaders(r, req.headers),
      body: requestBody,
    },
    legacy: {
      status: legacy.status,
      headers: redactHeaders(r, legacy.headers),
      body: sampleBody(r, legacyBody, mediaType(legacy.headers)),
    },
    candidate: {
      status: candidate.status,
      headers: redactHeaders(r, candidate.headers),
      body: sampleBody(r, candidateBody, mediaType(candidate.headers)),
    },
    differences: differences.map((d) => redactDifference(r, d)),
  })
}

function sampleBody(r: Redaction, b: NormalizedBody, type: string): unknown {
  if (b.kind === 'json') return redactJson(r, b.value)
  if (b.kind === 'binary') return { sha256: b.sha256, size: b.size }
  const text = type === 'application/x-www-form-urlencoded' ? redactForm(r, b.text) : b.text
  return text.length > SAMPLE_TEXT_LIMIT ? `${text.slice(0, SAMPLE_TEXT_LIMIT)}…` : text
}
