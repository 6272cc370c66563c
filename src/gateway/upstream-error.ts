// Mapping of undici failures to the gateway's coded answers: 504 for timeouts, 502 for an upstream that
// cannot be reached or answers something that is not a valid HTTP response, with a `{ code, message }`
// JSON body. Gateway clients are not the operators: messages name the target by its role (`legacy of
// system "todo-api"`), never by its URL, and never carry undici's messages (which contain addresses).
import type { ServerResponse } from 'node:http'
import { TandemError } from '../errors.js'

const TIMEOUTS = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'TANDEM_MIRROR_TIMEOUT',
])
/** Failures that happen before the upstream saw the request: safe to retry elsewhere. */
const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
])
/** The upstream answered, but not with a valid HTTP/1.1 response (besides llhttp's HPE_* codes). */
const PROTOCOL_ERRORS = new Set([
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
  'UND_ERR_INFO',
  'TANDEM_UPSTREAM_INFORMATIONAL_ONLY',
  'TANDEM_UPSTREAM_BAD_UPGRADE',
])

/** What a client may read about a transport failure: a fixed phrase per code. */
const PHRASES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending the request',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed before the response was complete',
  UND_ERR_CLOSED: 'connection pool closed',
  UND_ERR_DESTROYED: 'connection pool closed',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH:
    'the body length does not match Content-Length (or Content-Length is repeated with different values)',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'the response is larger than allowed',
  TANDEM_UPSTREAM_INFORMATIONAL_ONLY: 'an informational (1xx) response and no final response',
  TANDEM_UPSTREAM_BAD_UPGRADE: 'a 101 Switching Protocols to a request that asked for no upgrade',
}

function codeOf(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string } }
  const code = e?.code ?? e?.cause?.code ?? ''
  // undici reports a 101 to a request without Upgrade as a socket error; the upstream did answer.
  return code === 'UND_ERR_SOCKET' && e.message === 'bad upgrade' ? 'TANDEM_UPSTREAM_BAD_UPGRADE' : code
}

export function isTimeout(error: unknown): boolean {
  return TIMEOUTS.has(codeOf(error))
}

export function isConnectFailure(error: unknown): boolean {
  return CONNECT_FAILURES.has(codeOf(error))
}

export function isProtocolError(error: unknown): boolean {
  const code = codeOf(error)
  return PROTOCOL_ERRORS.has(code) || code.startsWith('HPE_') || (error as Error)?.name === 'HTTPParserError'
}

/** The client-facing error for a failed upstream call; `target` is the upstream's label (its role, not its URL). */
export function upstreamError(error: unknown, target: string, timeoutMs: number): TandemError {
  const code = codeOf(error)
  if (TIMEOUTS.has(code))
    return new TandemError('TANDEM_ERR_UPSTREAM_TIMEOUT', { target, timeout: `${timeoutMs}ms` }, { cause: error })
  if (isProtocolError(error)) {
    // llhttp's reason (`Invalid header value char`) says what was wrong and holds no address.
    const reason = code.startsWith('HPE_') ? /\(([^)]*)\)\s*$/.exec((error as Error).message ?? '')?.[1] : undefined
    const detail = PHRASES[code] ?? (reason === undefined ? code : `${reason} (${code})`)
    return new TandemError('TANDEM_ERR_UPSTREAM_PROTOCOL', { target, detail }, { cause: error })
  }
  const phrase = PHRASES[code]
  const detail = phrase === undefined ? code || 'transport failure' : `${phrase} (${code})`
  return new TandemError('TANDEM_ERR_UPSTREAM_CONNECT', { target, detail }, { cause: error })
}

/** Answer with a coded JSON error, unless the response has already started. */
export function sendError(res: ServerResponse, error: TandemError): void {
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return
  }
  const body = JSON.stringify({ code: error.code, message: error.message })
  res.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}
