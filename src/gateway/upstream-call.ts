// What one call to an upstream target is made of: the target (Upstream), the request to send and the
// outcome, shared by the HTTP/1.1 (forward.ts) and HTTP/2 (h2-upstream.ts) paths.
import type { Readable } from 'node:stream'
import type { Pool } from 'undici'
import type { CapturedResponse } from '../compare/sink.js'
import type { H2Sessions } from './h2-sessions.js'
import type { TargetHeaders } from './headers.js'
import type { TargetTls } from './tls-files.js'

export interface Upstream {
  /** For messages to gateway clients: the target's role (`legacy of system "todo-api"`), never its URL. */
  readonly label: string
  readonly pool: Pool
  /** Path prefix of the target URL ('' for the root), prepended to the request path. */
  readonly basePath: string
  readonly headers: TargetHeaders
  /** The target URL (for connections outside the pool: WebSocket tunnels). */
  readonly url: URL
  /** TLS options for `https://` targets (node:tls connect options), null for the system CAs. */
  readonly tls?: TargetTls
  /** Set for gRPC targets: calls go over node:http2 sessions (with trailers), not the undici pool. */
  readonly h2?: H2Sessions
  /** gRPC targets: grpc-status values that are errors for metrics (a mirror's capture counts them as 5xx). */
  readonly grpcErrorCodes?: ReadonlySet<number>
}

export interface ForwardOutcome {
  /** Upstream status, or 0 when no response arrived. */
  readonly status: number
  readonly error: Error | null
  /** True when response headers were sent to the client (a retry is no longer possible). */
  readonly started: boolean
  readonly durationMs: number
  /** The capped copy, when a capture cap was given and the call succeeded. */
  readonly capture: CapturedResponse | null
}

export interface ForwardRequest {
  readonly upstream: Upstream
  readonly method: string
  /** Path and query to send (the target's base path already prepended). */
  readonly path: string
  readonly headers: string[]
  readonly body: Readable | Buffer | null
  readonly timeoutMs: number
}
