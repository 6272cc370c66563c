// Adapter observations (SPEC 12): calls per arm with latency and error, and shadow comparisons, checked
// and bounded, recorded into the same per system x route x arm metrics and diff engine the gateway feeds.
import { TandemError } from '../errors.js'
import type { ComparisonSink, CapturedResponse, Exchange } from '../compare/sink.js'
import type { Arm } from '../domain/stages.js'

/** The route name under which a code system's calls are measured and compared. */
export const CODE_ROUTE = '(code)'
export const MAX_OBSERVATIONS = 1000
export const MAX_COMPARISONS = 100
export const MAX_OBSERVATION_BYTES = 256 * 1024
/** Observations stamped further in the past than this are recorded now (a client's clock is not trusted). */
const MAX_AGE_MS = 60_000

export interface Observation {
  readonly arm: Arm
  readonly ms: number
  readonly error: boolean
  readonly at?: number
}

/** One side of a shadow call: its JSON value or its error message. */
export interface ShadowSide {
  readonly value?: unknown
  readonly error?: string
  readonly ms: number
}

export interface ShadowComparison {
  readonly at?: number
  readonly legacy: ShadowSide
  readonly candidate: ShadowSide
}

export interface ObservationBatch {
  readonly client?: string
  readonly observations: readonly Observation[]
  readonly comparisons?: readonly ShadowComparison[]
}

/** Where checked observations go. */
export interface ObservationSink {
  record(system: string, arm: Arm, error: boolean, ms: number, at: number): void
  readonly comparisons?: ComparisonSink
}

const fail = (detail: string): TandemError => new TandemError('TANDEM_ERR_FLAGS_OBSERVATIONS', { detail })

/** Check a posted batch; throws TANDEM_ERR_FLAGS_OBSERVATIONS and records nothing when any part is wrong. */
export function checkBatch(body: unknown): ObservationBatch {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw fail('the body is not a JSON object')
  const b = body as Record<string, unknown>
  for (const k of Object.keys(b))
    if (k !== 'client' && k !== 'observations' && k !== 'comparisons') throw fail(`unknown key "${k.slice(0, 40)}"`)
  if (b.client !== undefined && typeof b.client !== 'string') throw fail('`client` is not a string')
  if (!Array.isArray(b.observations)) throw fail('`observations` is not an array')
  if (b.observations.length > MAX_OBSERVATIONS) throw fail(`${b.observations.length} observations in one batch`)
  b.observations.forEach((o, i) => checkObservation(o, i))
  if (b.comparisons !== undefined) {
    if (!Array.isArray(b.comparisons)) throw fail('`comparisons` is not an array')
    if (b.comparisons.length > MAX_COMPARISONS)
      throw fail(`${b.comparisons.length} comparisons in one batch (at most ${MAX_COMPARISONS})`)
    b.comparisons.forEach((c, i) => checkComparison(c, i))
  }
  return b as unknown as ObservationBatch
}

function checkObservation(o: unknown, i: number): void {
  const x = o as Record<string, unknown> | null
  if (x === null || typeof x !== 'object') throw fail(`observations[${i}] is not an object`)
  if (x.arm !== 'legacy' && x.arm !== 'candidate') throw fail(`observations[${i}].arm is not "legacy" or "candidate"`)
  if (typeof x.ms !== 'number' || !Number.isFinite(x.ms) || x.ms < 0 || x.ms > 3_600_000)
    throw fail(`observations[${i}].ms is not a duration in ms`)
  if (typeof x.error !== 'boolean') throw fail(`observations[${i}].error is not a boolean`)
  if (x.at !== undefined && (typeof x.at !== 'number' || !Number.isFinite(x.at)))
    throw fail(`observations[${i}].at is not a time in ms`)
}

function checkComparison(c: unknown, i: number): void {
  const x = c as Record<string, unknown> | null
  if (x === null || typeof x !== 'object') throw fail(`comparisons[${i}] is not an object`)
  for (const side of ['legacy', 'candidate'] as const) {
    const s = x[side] as Record<string, unknown> | null | undefined
    if (s === null || typeof s !== 'object') throw fail(`comparisons[${i}].${side} is not an object`)
    if (typeof s.ms !== 'number' || !Number.isFinite(s.ms) || s.ms < 0)
      throw fail(`comparisons[${i}].${side}.ms is not a duration in ms`)
    if (s.error !== undefined && typeof s.error !== 'string')
      throw fail(`comparisons[${i}].${side}.error is not a string`)
  }
}

/** Record a checked batch of `system`: observations into the metrics, comparisons into the diff engine. */
export function recordBatch(sink: ObservationSink, system: string, batch: ObservationBatch, now: number): void {
  const at = (t: number | undefined): number => (t === undefined || t > now || t < now - MAX_AGE_MS ? now : t)
  for (const o of batch.observations) sink.record(system, o.arm, o.error, o.ms, at(o.at))
  if (sink.comparisons === undefined) return
  for (const c of batch.comparisons ?? []) {
    const exchange: Exchange = {
      system,
      route: CODE_ROUTE,
      at: at(c.at),
      primary: 'legacy',
      request: { method: 'CALL', url: CODE_ROUTE, headers: {}, body: null },
      legacy: asResponse(c.legacy),
      candidate: asResponse(c.candidate),
    }
    sink.comparisons.submit(exchange)
  }
}

/** A side as the engine compares it (as experiment()'s enginePublisher does): a thrown call is a 500. */
function asResponse(s: ShadowSide): CapturedResponse {
  const failed = s.error !== undefined
  const body = failed ? { error: s.error } : (s.value ?? null)
  return {
    ok: true,
    status: failed ? 500 : 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
    truncated: false,
    durationMs: s.ms,
  }
}
