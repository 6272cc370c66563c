// gRPC calls through the gateway (SPEC 3a): forwarded over HTTP/2 with trailers and deadlines, upstream
// failures answered with a gRPC status (never an HTTP error page), unary and server-streaming calls
// mirrored, responses turned into proto3 JSON (or left as bytes) and grpc-status for the comparison.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { ArmResult, ComparisonSink, Exchange } from '../compare/sink.js'
import { mirrors, type Arm, type Stage } from '../domain/stages.js'
import { channels, publishCall, publishShadow } from './diagnostics.js'
import { decodeResponse, grpcStatusOf, type GrpcMethod, type GrpcPlan } from './grpc-codec.js'
import { forwardH2ToClient, type H2Outcome } from './h2-upstream.js'
import { upstreamRequestHeaders, type ForwardFacts } from './headers.js'
import type { GatewayPlan, RoutePlan } from './plan.js'
import { ShadowRun, type ShadowDeps } from './shadow.js'
import { isTimeout } from './upstream-error.js'

export { grpcStatusOf, type GrpcPlan } from './grpc-codec.js'

/** gRPC status codes the gateway answers with. */
export const GRPC = {
  OK: 0,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const

/** Is this an HTTP/2 gRPC request (`content-type: application/grpc[+proto|...]`)? */
export function isGrpcRequest(req: IncomingMessage): boolean {
  const type = req.headers['content-type']
  return type !== undefined && type.startsWith('application/grpc')
}

/** `grpc-timeout` (`100m`, `5S`, `1H`...) in milliseconds, or null. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | null {
  if (typeof value !== 'string') return null
  const m = /^(\d{1,8})([HMSmun])$/.exec(value)
  if (m === null) return null
  const n = Number(m[1])
  const scale = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 }[m[2] as 'H']
  return Math.max(1, Math.ceil(n * scale))
}

/** An HTTP status from a target that does not speak gRPC, as a gRPC status (the gRPC HTTP mapping). */
function fromHttpStatus(status: number): number {
  if (status === 401) return GRPC.UNAUTHENTICATED
  if (status === 403) return GRPC.PERMISSION_DENIED
  if (status === 404) return GRPC.UNIMPLEMENTED
  if (status === 429 || status === 502 || status === 503 || status === 504) return GRPC.UNAVAILABLE
  return status === 400 ? GRPC.INTERNAL : GRPC.UNKNOWN
}

/** A non-gRPC answer from the target: refused, and answered with its gRPC status instead. */
function refuseNonGrpc(headers: Record<string, string | string[] | number | undefined>): Error | null {
  const status = Number(headers[':status'])
  const type = String(headers['content-type'] ?? '')
  if (status === 200 && type.startsWith('application/grpc')) return null
  const message = `the target answered HTTP ${status} (${type || 'no content-type'}), not gRPC`
  return Object.assign(new Error(message), { code: 'TANDEM_GRPC_NOT_GRPC', grpcStatus: fromHttpStatus(status) })
}

/** Answer with a gRPC status: trailers-only before anything was sent, trailers after a started response. */
export function answerGrpcStatus(res: ServerResponse, code: number, message: string): void {
  const fields = { 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) }
  if ((res as { destroyed?: boolean }).destroyed === true || res.writableEnded) return
  if (res.headersSent) {
    res.addTrailers(fields)
    res.end()
    return
  }
  const stream = (res as unknown as { stream?: { respond(h: object, o: object): void } }).stream
  if (stream !== undefined) {
    // HTTP/2: one HEADERS frame that ends the stream (a trailers-only response).
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...fields }, { endStream: true })
    return
  }
  res.writeHead(200, { 'content-type': 'application/grpc', ...fields })
  res.end()
}

/** The gRPC status for a failed call: timeouts are DEADLINE_EXCEEDED, other transport failures UNAVAILABLE. */
function statusForError(error: Error): number {
  const known = (error as { grpcStatus?: number }).grpcStatus
  if (known !== undefined) return known
  return isTimeout(error) ? GRPC.DEADLINE_EXCEEDED : GRPC.UNAVAILABLE
}

/** Serves the gRPC routes of the gateway. */
export class GrpcCalls {
  readonly #deps: ShadowDeps
  /** Per gRPC plan: shadow deps whose sink turns responses into proto3 JSON. */
  readonly #shadowDeps = new WeakMap<GrpcPlan, ShadowDeps>()

  constructor(deps: ShadowDeps) {
    this.#deps = deps
  }

  serve(
    plan: GatewayPlan,
    route: RoutePlan,
    arm: Arm,
    stage: Stage,
    req: IncomingMessage,
    res: ServerResponse,
    facts: ForwardFacts,
    withBody: boolean,
  ): void {
    const system = route.system
    const grpc = system.grpc!
    const method = grpc.codec?.method(req.url!.split('?')[0]!)
    // From an HTTP/2 client the body is read from its stream: the compat request would copy every chunk.
    const body: Readable = (req as { stream?: Readable }).stream ?? req
    let shadow = null
    if (mirrors(stage)) {
      // Client and bidi streams are forwarded only: a mirror would need the whole conversation.
      // Every gRPC call is a POST: SPEC 3a mirrors unary and server-streaming calls whatever their method
      // (unsafeMethods is about HTTP methods); sampling and maxBodyBytes apply as for HTTP.
      if (method !== undefined && method.requestStream) publishShadow(this.#deps.gateway, system.name, 'streaming')
      else if (system.shadow.sample < 1 && Math.random() >= system.shadow.sample) {
        publishShadow(this.#deps.gateway, system.name, 'sampled-out')
      } else shadow = new ShadowRun(this.#shadowDepsOf(grpc), route, arm, req, facts, withBody, body)
    }
    const upstream = system.serve[arm]
    const request = {
      upstream,
      method: req.method!,
      path: upstream.basePath + req.url!,
      headers: upstreamRequestHeaders(facts, upstream.headers, false),
      body: withBody ? body : null,
      timeoutMs: plan.upstreamTimeoutMs,
    }
    const deadlineMs = parseGrpcTimeout(req.headers['grpc-timeout'])
    const options = { captureCap: shadow?.captureCap ?? 0, deadlineMs, refuse: refuseNonGrpc }
    forwardH2ToClient(request, res, options, (o: H2Outcome) => {
      const status = o.error === null ? grpcStatusOf(o.trailers ?? o.headers) : statusForError(o.error)
      const error = o.error !== null || grpc.errorCodes.has(status)
      // An error for metrics: a transport failure (0) or a grpc-status in grpc.errorCodes (counted as 5xx).
      const metricStatus = o.error !== null ? 0 : error ? 500 : 200
      publishCall(channels.request, this.#deps.gateway, system.name, route.template, arm, metricStatus, o.durationMs)
      shadow?.primaryDone(o)
      if (o.error !== null && (o.error as { code?: string }).code !== 'TANDEM_CLIENT_ABORTED') {
        const what = isTimeout(o.error) ? `no answer within ${deadlineMs ?? plan.upstreamTimeoutMs}ms` : o.error.message
        answerGrpcStatus(res, status, `${upstream.label}: ${what}`)
      }
    })
    shadow?.primaryStarted()
  }

  #shadowDepsOf(grpc: GrpcPlan): ShadowDeps {
    let deps = this.#shadowDeps.get(grpc)
    if (deps === undefined) {
      const sink = new GrpcExchangeSink(this.#deps.sink, grpc)
      deps = { sink, gateway: this.#deps.gateway }
      this.#shadowDeps.set(grpc, deps)
    }
    return deps
  }
}

/** How long an exchange waits for message types being asked of legacy before it is compared by bytes. */
const TYPES_WAIT_MS = 10_000

/** Hands exchanges on with grpc-status as the status and the messages as proto3 JSON (bytes without types). */
export class GrpcExchangeSink implements ComparisonSink {
  readonly #inner: ComparisonSink
  readonly #grpc: GrpcPlan

  constructor(inner: ComparisonSink, grpc: GrpcPlan) {
    this.#inner = inner
    this.#grpc = grpc
  }

  submit(exchange: Exchange): void {
    const codec = this.#grpc.codec
    const path = exchange.request.url.split('?')[0]!
    const method = codec?.method(path)
    // Types being asked of legacy (server reflection, or a method it did not list before): wait, bounded.
    const pending = method === undefined ? (codec?.pending?.() ?? null) : null
    if (pending === null) return this.#inner.submit(convertExchange(exchange, method))
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, TYPES_WAIT_MS)).unref())
    void Promise.race([pending, bound]).then(() => {
      clearTimeout(timer)
      this.#inner.submit(convertExchange(exchange, codec!.method(path)))
    })
  }
}

function convertExchange(exchange: Exchange, method: GrpcMethod | undefined): Exchange {
  const convert = (r: ArmResult): ArmResult => {
    if (!r.ok) return r
    const headers: Record<string, string | string[] | undefined> = { ...r.headers }
    const status = grpcStatusOf(headers)
    const encoding = headers['grpc-encoding']
    const grpcEncoding = typeof encoding === 'string' ? encoding : undefined
    const decoded = method === undefined || r.truncated ? null : decodeResponse(method, r.body, grpcEncoding)
    if (decoded === null) return { ...r, status, headers }
    headers['content-type'] = 'application/json'
    delete headers['content-encoding']
    return { ...r, status, headers, body: Buffer.from(JSON.stringify(decoded.value)) }
  }
  return {
    ...exchange,
    legacy: convert(exchange.legacy),
    candidate: convert(exchange.candidate),
    ...(exchange.secondary === undefined ? {} : { secondary: convert(exchange.secondary) }),
  }
}
