// HTTP/2 calls to targets on node:http2 client sessions, with trailers (gRPC needs them; undici drops
// data still buffered when trailers arrive): one session per target origin, streams flow-controlled
// both ways, a capped copy of the response (trailers included) kept for comparison.
import {
  constants,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2'
import type { Readable } from 'node:stream'
import type { CapturedResponse } from '../compare/sink.js'
import type { ServerResponse } from 'node:http'
import type { ForwardOutcome, ForwardRequest } from './upstream-call.js'

/** Headers a proxy never forwards in HTTP/2 (connection-specific, RFC 9113 8.2.2) or sets itself. */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'host',
  'http2-settings',
])

/** The outcome of an HTTP/2 call: with the response's trailers (grpc-status lives there). */
export interface H2Outcome extends ForwardOutcome {
  readonly headers: IncomingHttpHeaders | null
  readonly trailers: IncomingHttpHeaders | null
}

/** The flat [name, value, ...] list of the gateway as HTTP/2 request headers. */
function h2Headers(request: ForwardRequest): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': request.method, ':path': request.path }
  const list = request.headers
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!.toLowerCase()
    const value = list[i + 1]!
    if (name === 'host') out[':authority'] = value
    if (NOT_FORWARDED.has(name)) continue
    const prior = out[name]
    out[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [String(prior), value]
  }
  out.te = 'trailers'
  return out
}

/** Response headers for the client: pseudo-headers and connection-specific ones left out. */
export function clientHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 || NOT_FORWARDED.has(name)) continue
    const v = headers[name]
    if (v !== undefined) out[name] = v
  }
  return out
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms}ms`), { code: 'UND_ERR_HEADERS_TIMEOUT' })
}

/** Open the stream and send the body (streamed with backpressure, or a buffer). */
function open(request: ForwardRequest): ClientHttp2Stream {
  const session = request.upstream.h2!.get(request.upstream)
  const body = request.body
  const stream = session.request(h2Headers(request), { endStream: body === null })
  if (body !== null) {
    if (Buffer.isBuffer(body)) stream.end(body)
    else relay(body as Readable, stream)
  }
  return stream
}

/** `source` into `sink` with backpressure: pipe() without its bookkeeping (one call sets up a dozen listeners). */
function relay(source: Readable, sink: ClientHttp2Stream): void {
  const resume = () => source.resume()
  source.on('data', (chunk: Buffer) => {
    if (!sink.write(chunk)) {
      source.pause()
      sink.once('drain', resume)
    }
  })
  source.once('end', () => sink.end())
  // A reader that paused it (a shadow copy waits for the primary call) lets it flow now.
  source.resume()
}

/** A copy of a response body up to `cap` bytes. */
class Capture {
  readonly chunks: Buffer[] = []
  length = 0
  truncated = false
  constructor(readonly cap: number) {}

  keep(chunk: Buffer): void {
    const room = this.cap - this.length
    if (room <= 0) return void (this.truncated = true)
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room)
    if (part.length < chunk.length) this.truncated = true
    this.chunks.push(part)
    this.length += part.length
  }

  response(headers: IncomingHttpHeaders, trailers: IncomingHttpHeaders | null, durationMs: number): CapturedResponse {
    const merged = { ...clientHeaders(headers), ...(trailers === null ? {} : clientHeaders(trailers)) }
    const body = Buffer.concat(this.chunks, this.length)
    const status = Number(headers[':status'])
    return { ok: true, status, headers: merged, body, truncated: this.truncated, durationMs }
  }
}

/**
 * Forward over HTTP/2 and stream the answer into `res`, trailers included. `timeoutMs` bounds the wait
 * for the response headers, `deadlineMs` (a gRPC deadline) the whole call. `done` runs once.
 */
export function forwardH2ToClient(
  request: ForwardRequest,
  res: ServerResponse,
  options: { captureCap: number; deadlineMs: number | null; refuse?: (headers: IncomingHttpHeaders) => Error | null },
  done: (o: H2Outcome) => void,
): void {
  const { captureCap, deadlineMs } = options
  const start = performance.now()
  const capture = captureCap > 0 ? new Capture(captureCap) : null
  let headers: IncomingHttpHeaders | null = null
  let trailers: IncomingHttpHeaders | null = null
  let finished = false
  let trailersOnly = false
  let stream: ClientHttp2Stream
  const finish = (error: Error | null) => {
    if (finished) return
    finished = true
    clearTimeout(timer)
    const durationMs = performance.now() - start
    const ok = error === null && headers !== null
    const status = ok ? Number(headers![':status']) : 0
    const copy = ok && capture !== null ? capture.response(headers!, trailers, durationMs) : null
    done({ status, error, started: res.headersSent || trailersOnly, durationMs, capture: copy, headers, trailers })
  }
  const limit = deadlineMs ?? request.timeoutMs
  const timer = setTimeout(() => {
    if (deadlineMs !== null || headers === null) {
      stream.close(constants.NGHTTP2_CANCEL)
      finish(timeoutError(limit))
    }
  }, limit)
  try {
    stream = open(request)
  } catch (error) {
    return finish(error as Error)
  }
  res.once('close', () => {
    if (!finished) {
      stream.close(constants.NGHTTP2_CANCEL)
      finish(Object.assign(new Error('the client closed the connection'), { code: 'TANDEM_CLIENT_ABORTED' }))
    }
  })
  stream.on('response', (h: IncomingHttpHeaders, flags: number) => {
    // A response the caller does not relay as it is (gRPC: an HTTP error page): the caller answers.
    const refused = options.refuse?.(h) ?? null
    if (refused !== null) {
      stream.close(constants.NGHTTP2_CANCEL)
      return finish(refused)
    }
    headers = h
    const h2 = (res as unknown as { stream?: ServerHttp2Stream }).stream
    if (h2 === undefined) return void res.writeHead(Number(h[':status']), clientHeaders(h))
    // An HTTP/2 client: the response headers go straight to its stream (the compat writeHead validates
    // each header again). Headers that end the stream (gRPC trailers-only) are relayed in one HEADERS frame;
    // otherwise the compat response's own wantTrailers listener sends what res.addTrailers() stored.
    const out = clientHeaders(h)
    out[':status'] = h[':status'] as unknown as string
    if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
      trailersOnly = true
      h2.respond(out, { endStream: true })
    } else h2.respond(out, { waitForTrailers: true })
  })
  stream.on('trailers', (t: IncomingHttpHeaders) => (trailers = t))
  stream.on('data', (chunk: Buffer) => {
    capture?.keep(chunk)
    if (!res.write(chunk)) {
      // The client reads slower than the target sends: stop reading the target's stream.
      stream.pause()
      res.once('drain', () => stream.resume())
    }
  })
  stream.on('end', () => {
    if (finished) return
    if (!trailersOnly) {
      if (trailers !== null) res.addTrailers(clientHeaders(trailers))
      res.end()
    }
    finish(null)
  })
  stream.on('error', (error: Error) => finish(error))
  stream.on('close', () => {
    if (!finished) finish(resetError(stream.rstCode))
  })
}

/** A stream that closed before its end: reset by the target, or its session went away. */
function resetError(rstCode: number | undefined): Error {
  const message = `the stream was closed before the response was complete (HTTP/2 code ${rstCode ?? 'none'})`
  return Object.assign(new Error(message), { code: 'ECONNRESET' })
}

/** Who receives a mirror's capture (see forward.ts CaptureReceiver). */
interface Receiver {
  captured(result: CapturedResponse | Error, durationMs: number, tag: number): void
}

/** Send a buffered request over HTTP/2 and capture the answer; `timeoutMs` bounds the whole exchange. */
export function captureH2(request: ForwardRequest, captureCap: number, receiver: Receiver, tag: number): void {
  const start = performance.now()
  const capture = new Capture(captureCap)
  let headers: IncomingHttpHeaders | null = null
  let trailers: IncomingHttpHeaders | null = null
  let finished = false
  let stream: ClientHttp2Stream | null = null
  const finish = (error: Error | null) => {
    if (finished) return
    finished = true
    clearTimeout(timer)
    const durationMs = performance.now() - start
    if (error !== null || headers === null) return receiver.captured(error ?? new Error('no response'), durationMs, tag)
    const response = capture.response(headers, trailers, durationMs)
    // A gRPC error status is an error of the mirrored arm in its metrics (the comparison reads grpc-status).
    const grpcStatus = Number(response.headers['grpc-status'] ?? 2)
    const failed = errorCodes !== undefined && response.status === 200 && errorCodes.has(grpcStatus)
    receiver.captured(failed ? { ...response, status: 500 } : response, durationMs, tag)
  }
  const errorCodes = request.upstream.grpcErrorCodes
  const timer = setTimeout(() => {
    stream?.close(constants.NGHTTP2_CANCEL)
    const message = `the mirror call took longer than shadow.timeout (${request.timeoutMs}ms)`
    finish(Object.assign(new Error(message), { code: 'TANDEM_MIRROR_TIMEOUT' }))
  }, request.timeoutMs)
  timer.unref()
  try {
    stream = open(request)
  } catch (error) {
    return finish(error as Error)
  }
  stream.on('response', (h: IncomingHttpHeaders) => (headers = h))
  stream.on('trailers', (t: IncomingHttpHeaders) => (trailers = t))
  stream.on('data', (chunk: Buffer) => capture.keep(chunk))
  stream.on('end', () => finish(null))
  stream.on('error', (error: Error) => finish(error))
  stream.on('close', () => {
    if (!finished) finish(resetError(stream?.rstCode))
  })
}
