// Forwarding one request to an upstream through its undici pool: the request body is streamed from
// the client, the response is streamed back with backpressure (a slow client pauses the upstream),
// a client that goes away aborts the upstream call, and a capped copy can be kept for comparison.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import type { CapturedResponse } from '../compare/sink.js'
import { captureH2 } from './h2-upstream.js'
import { stripResponseHeaders } from './headers.js'
import { countStreamedBody, streamed } from './memory.js'
import type { ForwardOutcome, ForwardRequest } from './upstream-call.js'

export type { ForwardOutcome, ForwardRequest } from './upstream-call.js'

/** Streams an upstream response into a ServerResponse. */
class ProxyHandler implements Dispatcher.DispatchHandler {
  readonly #res: ServerResponse
  readonly #start: number
  readonly #done: (outcome: ForwardOutcome) => void
  #controller: Dispatcher.DispatchController | null = null
  #status = 0
  #headers: Record<string, string | string[] | undefined> | null = null
  readonly #capture: BodyCapture | null
  #waitingDrain = false
  #finished = false
  /** A 1xx arrived: a failure before the final response is the upstream's protocol error, not a lost connection. */
  #informational = false

  constructor(res: ServerResponse, captureCap: number, done: (outcome: ForwardOutcome) => void) {
    this.#res = res
    this.#start = performance.now()
    this.#done = done
    this.#capture = captureCap > 0 ? new BodyCapture(captureCap) : null
  }

  /** The client went away before the response was complete: cancel the upstream call. */
  clientClosed(): void {
    if (!this.#finished)
      this.#controller?.abort(
        Object.assign(new Error('the client closed the connection'), { code: 'TANDEM_CLIENT_ABORTED' }),
      )
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#res.destroyed) this.clientClosed()
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) {
      this.#informational = true // 1xx informational: the final response should follow
      return
    }
    this.#status = statusCode
    const stripped = stripResponseHeaders(headers)
    // A fresh object that writeHead does not keep: the capture can share it.
    if (this.#capture !== null) this.#headers = stripped
    this.#res.writeHead(statusCode, statusMessage || undefined, stripped as Record<string, string | string[]>)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    streamed(chunk.length)
    this.#capture?.keep(chunk)
    if (!this.#res.write(chunk) && !this.#waitingDrain) {
      // The client reads slower than the upstream sends: stop reading the upstream socket.
      controller.pause()
      this.#waitingDrain = true
      this.#res.once('drain', () => {
        this.#waitingDrain = false
        controller.resume()
      })
    }
  }

  onResponseEnd(): void {
    this.#res.end()
    this.#finish(null)
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#finish(error)
  }

  #finish(failure: Error | null): void {
    if (this.#finished) return
    this.#finished = true
    const durationMs = performance.now() - this.#start
    const error = failure !== null && this.#informational && this.#status === 0 ? informationalOnly(failure) : failure
    const capture =
      error === null && this.#capture !== null
        ? this.#capture.response(this.#status, this.#headers ?? {}, durationMs)
        : null
    this.#done({
      status: error === null ? this.#status : 0,
      error,
      started: this.#res.headersSent,
      durationMs,
      capture,
    })
  }
}

/** The upstream sent a 1xx and then failed (closed, reset) instead of sending the final response. */
function informationalOnly(cause: Error): Error {
  if ((cause as { code?: string }).code === 'TANDEM_CLIENT_ABORTED') return cause
  return Object.assign(
    new Error('the upstream sent an informational (1xx) response and no final response', { cause }),
    { code: 'TANDEM_UPSTREAM_INFORMATIONAL_ONLY' },
  )
}

/** undici dispatch options for a request; the timeout bounds the wait for headers and every body gap. */
function dispatchOptions(request: ForwardRequest): Dispatcher.DispatchOptions {
  return {
    method: request.method,
    path: request.path,
    headers: request.headers,
    body: request.body,
    headersTimeout: request.timeoutMs,
    bodyTimeout: request.timeoutMs,
  } as Dispatcher.DispatchOptions
}

/** Forward to `req.upstream` and stream the answer into `res`; `done` runs once, after the end or a failure. */
export function forwardToClient(
  request: ForwardRequest,
  res: ServerResponse,
  captureCap: number,
  done: (outcome: ForwardOutcome) => void,
): void {
  const handler = new ProxyHandler(res, captureCap, done)
  if (request.body !== null && !Buffer.isBuffer(request.body)) countStreamedBody(request.body)
  res.once('close', () => {
    if (!res.writableFinished) handler.clientClosed()
  })
  request.upstream.pool.dispatch(dispatchOptions(request), handler)
}

/** Who receives a mirror's capture; `tag` tells the receiver's calls apart (no closure per call). */
export interface CaptureReceiver {
  captured(result: CapturedResponse | Error, durationMs: number, tag: number): void
}

/** Consumes an upstream response completely, keeping a capped copy (for mirrors). */
class CaptureHandler implements Dispatcher.DispatchHandler {
  readonly #capture: BodyCapture
  readonly #start = performance.now()
  readonly #receiver: CaptureReceiver
  readonly #tag: number
  #controller: Dispatcher.DispatchController | null = null
  #status = 0
  #headers: Record<string, string | string[] | undefined> = {}
  #finished = false
  readonly #deadline: NodeJS.Timeout
  readonly #timeoutMs: number

  constructor(cap: number, receiver: CaptureReceiver, tag: number, timeoutMs: number) {
    this.#capture = new BodyCapture(cap)
    this.#receiver = receiver
    this.#tag = tag
    this.#timeoutMs = timeoutMs
    // undici's timeouts bound each wait (headers, every body gap); this bounds the whole exchange, so
    // a candidate trickling its body cannot hold a mirror slot for longer than shadow.timeout.
    this.#deadline = setTimeout(expire, timeoutMs, this)
    this.#deadline.unref()
  }

  expire(): void {
    this.abort(
      Object.assign(new Error(`the mirror call took longer than shadow.timeout (${this.#timeoutMs}ms)`), {
        code: 'TANDEM_MIRROR_TIMEOUT',
      }),
    )
  }

  abort(error: Error): void {
    if (!this.#finished) {
      if (this.#controller !== null) this.#controller.abort(error)
      this.#finish(error)
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#finished) controller.abort(new Error('mirror already finished'))
  }

  onResponseStart(
    _c: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return
    this.#status = statusCode
    this.#headers = stripResponseHeaders(headers)
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    streamed(chunk.length)
    this.#capture.keep(chunk)
  }

  onResponseEnd(): void {
    this.#finish(null)
  }

  onResponseError(_c: Dispatcher.DispatchController, error: Error): void {
    this.#finish(error)
  }

  #finish(error: Error | null): void {
    if (this.#finished) return
    this.#finished = true
    clearTimeout(this.#deadline)
    const durationMs = performance.now() - this.#start
    this.#receiver.captured(
      error ?? this.#capture.response(this.#status, this.#headers, durationMs),
      durationMs,
      this.#tag,
    )
  }
}

function expire(handler: CaptureHandler): void {
  handler.expire()
}

/** Send a buffered request and capture the answer; `timeoutMs` bounds the whole exchange (headers and body). */
export function forwardAndCapture(
  request: ForwardRequest,
  captureCap: number,
  receiver: CaptureReceiver,
  tag: number,
): void {
  if (request.upstream.h2 !== undefined) return captureH2(request, captureCap, receiver, tag)
  const handler = new CaptureHandler(captureCap, receiver, tag, request.timeoutMs)
  request.upstream.pool.dispatch(dispatchOptions(request), handler)
}

/** A copy of a response body up to `cap` bytes, kept for comparison while the body streams on. */
class BodyCapture {
  readonly #cap: number
  readonly #chunks: Buffer[] = []
  #length = 0
  #truncated = false

  constructor(cap: number) {
    this.#cap = cap
  }

  keep(chunk: Buffer): void {
    const room = this.#cap - this.#length
    if (room <= 0) {
      this.#truncated = true
      return
    }
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room)
    if (part.length < chunk.length) this.#truncated = true
    this.#chunks.push(part)
    this.#length += part.length
  }

  /**
   * The captured response. The body is copied at most once: a response read in one chunk (the usual
   * case) is kept as the view undici handed us, which nothing writes to afterwards.
   */
  response(
    status: number,
    headers: Record<string, string | string[] | undefined>,
    durationMs: number,
  ): CapturedResponse {
    const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length)
    return { ok: true, status, headers, body, truncated: this.#truncated, durationMs }
  }
}

export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length']
  if (len !== undefined) return len !== '0'
  if (req.headers['transfer-encoding'] !== undefined) return true
  // HTTP/2 frames bodies itself: a request without one ends its stream with the headers.
  return (
    req.httpVersionMajor === 2 && !(req as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders
  )
}
