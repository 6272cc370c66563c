// The comparison sink: where the gateway hands a finished exchange (the request and capped copies of
// the responses of both arms). It must never block or throw on the request path.
import type { ComparisonCounts } from '../domain/comparisons.js'
import type { Arm } from '../domain/stages.js'

export type { ComparisonCounts }

export interface CapturedRequest {
  readonly method: string
  /** Path and query as received. */
  readonly url: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** Up to shadow.maxBodyBytes; null when the request had no body. */
  readonly body: Buffer | null
}

export interface CapturedResponse {
  readonly ok: true
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** Raw (possibly compressed) bytes as sent by the upstream, up to the capture cap. */
  readonly body: Buffer
  /** True when the body was longer than the cap and `body` holds only its beginning. */
  readonly truncated: boolean
  readonly durationMs: number
}

export interface FailedResponse {
  readonly ok: false
  /** Why no response could be compared: connect error, timeout, reset, protocol error. */
  readonly reason: 'timeout' | 'error' | 'queue-full'
  readonly message: string
  readonly durationMs: number
}

export type ArmResult = CapturedResponse | FailedResponse

export interface Exchange {
  readonly system: string
  /** The route template that matched, e.g. `/todos/:id`. */
  readonly route: string
  readonly at: number
  /** The arm whose response the client received. */
  readonly primary: Arm
  readonly request: CapturedRequest
  readonly legacy: ArmResult
  readonly candidate: ArmResult
  /** The second legacy instance (`legacy.secondary`), for noise detection. */
  readonly secondary?: ArmResult
}

export interface ComparisonSink {
  /** Accept an exchange for comparison; returns at once. */
  submit(exchange: Exchange): void
}

export interface ComparisonReader {
  /** Immediate from the comparison engine; a promise from the reader that merges every instance's counts. */
  counts(system: string, sinceMs: number, untilMs: number): ComparisonCounts | Promise<ComparisonCounts>
}
