// The gateway listener (node:http): match the route, choose the arm, forward to it, mirror to the
// other arm when the stage says so, publish what happened (diagnostics.ts). The plan is swapped
// atomically on reload.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { ComparisonSink } from '../compare/sink.js'
import type { Config } from '../config/schema.js'
import type { RoutingTable } from '../domain/routing-table.js'
import { mirrors, type Arm } from '../domain/stages.js'
import { TandemError } from '../errors.js'
import { assignArm } from './assign-arm.js'
import { channels, publishCall } from './diagnostics.js'
import { forwardToClient, hasBody, type ForwardOutcome } from './forward.js'
import { upstreamRequestHeaders, type ForwardFacts } from './headers.js'
import type { GatewayLog } from './grpc-reflected-codec.js'
import { compilePlan, MirrorQueue, reflectionTimeoutMs, type GatewayPlan, type RoutePlan } from './plan.js'
import { beginShadow, type ShadowDeps, type ShadowRun } from './shadow.js'
import { answerGrpcStatus, GRPC, GrpcCalls, isGrpcRequest } from './grpc.js'
import { GatewayListener } from './listener.js'
import { readServerTls, type ServerTls } from './tls-files.js'
import { isConnectFailure, sendError, upstreamError } from './upstream-error.js'
import { requestTarget, type RequestTarget } from './request-target.js'
import { PoolRegistry, type Upstream } from './upstreams.js'
import { refuse, Tunnels } from './websocket.js'

/** Metrics and shadow counts are not options: they subscribe to the events of diagnostics.ts. */
export interface GatewayOptions {
  readonly routing: RoutingTable
  readonly sink: ComparisonSink
  /** Where what happens off the request path is logged (gRPC types asked of legacy); default nowhere. */
  readonly log?: GatewayLog
}

const SILENT: GatewayLog = { info: () => {}, error: () => {} }

/** The methods the gateway forwards, for `OPTIONS *`. */
const ALLOW = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'
/** Limits on client connections, from `gateway` in tandem.yaml. */
type ClientLimits = Pick<Config['gateway'], 'headersTimeout' | 'idleTimeout' | 'maxConnections'>
const DEFAULT_LIMITS: ClientLimits = { headersTimeout: 20_000, idleTimeout: 5_000, maxConnections: 8192 }

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

export class Gateway {
  readonly #options: GatewayOptions
  readonly #shadowDeps: ShadowDeps
  readonly #pools = new PoolRegistry()
  readonly #queues = new Map<string, MirrorQueue>()
  #plan: GatewayPlan | null = null
  #limits: ClientLimits | null = null
  #listener: GatewayListener | null = null
  /** `gateway.tls` as last read; null serves cleartext (HTTP/1.1 and h2c). */
  #tls: ServerTls | null = null
  #encrypted = false
  #inFlight = 0
  #idle: (() => void) | null = null
  #closing = false
  readonly #tunnels: Tunnels
  readonly #grpc: GrpcCalls

  constructor(options: GatewayOptions) {
    this.#options = options
    this.#shadowDeps = { sink: options.sink, gateway: this }
    this.#tunnels = new Tunnels({ routing: options.routing, gateway: this })
    this.#grpc = new GrpcCalls(this.#shadowDeps)
  }

  /** Compile `config` and swap it in; requests already running finish on the plan they started with. */
  async apply(config: Config): Promise<void> {
    // TLS files first: a bad one rejects the whole config (coded error) and the running certificate stays.
    const tls = config.gateway.tls === undefined ? null : readServerTls(config.gateway.tls)
    const plan = compilePlan(config, this.#pools, this.#queues, this.#options.log ?? SILENT)
    // gRPC types asked of legacy: the first answer is waited for, briefly (a legacy that is down must not hold
    // a start or reload); a load still running, or failed and retried, keeps going in the background.
    if (plan.reflected.length > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, reflectionTimeoutMs(config))
        void Promise.all(plan.reflected.map((r) => r.start())).then(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    if (this.#closing) return void plan.reflected.forEach((r) => r.close())
    const previous = this.#plan
    this.#plan = plan
    for (const r of previous?.reflected ?? []) r.close()
    if (channels.plan.hasSubscribers) channels.plan.publish({ gateway: this, routes: this.#plan.routes })
    this.#limits = config.gateway
    if (tls !== null) this.#listener?.setCertificate(tls)
    this.#tls = tls
    this.#listener?.applyLimits(config.gateway)
    // Pools of targets no longer configured close once their in-flight requests are done.
    await this.#pools.retain(this.#plan.pools)
  }

  get systems(): readonly string[] {
    return this.#plan?.systems ?? []
  }

  /**
   * Listen with the client limits of the config last applied (`gateway.headersTimeout`, `idleTimeout`,
   * `maxConnections`).
   */
  async listen(listen: string, maxHeaderSize: number): Promise<AddressInfo> {
    const { host, port } = splitListen(listen)
    const limits = this.#limits ?? DEFAULT_LIMITS
    const listener = new GatewayListener(
      { tls: this.#tls, maxHeaderSize, limits },
      {
        // HTTP/2 compat requests behave as node:http's for everything the request path uses (see h2-request.ts).
        request: (req, res) => this.#handle(req as IncomingMessage, res as unknown as ServerResponse),
        upgrade: (req, socket, head) => this.#upgrade(req, socket, head),
        clientError: answerClientError,
      },
    )
    this.#listener = listener
    this.#encrypted = listener.secure
    try {
      return await listener.listen(port, host)
    } catch (error) {
      throw new TandemError(
        'TANDEM_ERR_LISTEN',
        { address: listen, detail: (error as Error).message },
        { cause: error },
      )
    }
  }

  /** Stop accepting, let in-flight requests finish (up to `drainMs`), then close everything. */
  async close(drainMs = 30_000): Promise<void> {
    this.#closing = true
    const listener = this.#listener
    if (listener !== null) {
      const closed = listener.stopAccepting()
      if (this.#inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, drainMs)
          this.#idle = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
      listener.closeAll()
      this.#tunnels.closeAll()
      await closed
    }
    for (const r of this.#plan?.reflected ?? []) r.close()
    await this.#pools.closeAll()
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const plan = this.#plan
    if (plan === null)
      return sendError(res, new TandemError('TANDEM_ERR_NO_ROUTE', { method: req.method, path: req.url }))
    this.#inFlight++
    res.once('close', () => this.#finished())
    const target = requestTarget(req.method!, req.url!)
    if (target.kind !== 'path') return answerTarget(res, target)
    // Upstreams (and mirrors, and the comparison) receive the normalised target that was routed on.
    req.url = target.url
    if (target.host !== null) req.headers.host = target.host
    const path = target.path
    const route = plan.matcher.match(req.method!, path)
    const socket = req.socket
    const facts: ForwardFacts = {
      rawHeaders: req.rawHeaders,
      headers: req.headers,
      remoteAddress: socket.remoteAddress,
      encrypted: this.#encrypted,
    }
    if (route === undefined) {
      if (plan.fallback === null) {
        const error = new TandemError('TANDEM_ERR_NO_ROUTE', { method: req.method, path })
        // A gRPC client gets a gRPC status, not an HTTP error page.
        return isGrpcRequest(req) ? answerGrpcStatus(res, GRPC.UNIMPLEMENTED, error.message) : sendError(res, error)
      }
      return this.#forward(plan, req, res, facts, plan.fallback, 0, hasBody(req) ? req : null, null)
    }
    const system = route.system
    const routing = this.#options.routing.get(system.name)
    const arm = assignArm(system.policy, routing, {
      headers: req.headers,
      query: target.query,
      remoteAddress: socket.remoteAddress,
    })
    const withBody = hasBody(req)
    if (system.grpc !== null) return this.#grpc.serve(plan, route, arm, routing.stage, req, res, facts, withBody)
    const shadow = mirrors(routing.stage) ? beginShadow(this.#shadowDeps, route, arm, req, facts, withBody) : null
    this.#serve(plan, route, arm, req, res, facts, withBody, shadow)
    shadow?.primaryStarted()
  }

  #finished(): void {
    if (--this.#inFlight === 0 && this.#idle !== null) this.#idle()
  }

  /** An Upgrade request (WebSocket): tunnelled to the chosen arm; a drain lets it finish there. */
  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const plan = this.#plan
    if (plan === null)
      return refuse(socket, new TandemError('TANDEM_ERR_NO_ROUTE', { method: req.method, path: req.url }))
    this.#inFlight++
    socket.once('close', () => this.#finished())
    this.#tunnels.open(plan, req, socket, head)
  }

  #serve(
    plan: GatewayPlan,
    route: RoutePlan,
    arm: Arm,
    req: IncomingMessage,
    res: ServerResponse,
    facts: ForwardFacts,
    withBody: boolean,
    shadow: ShadowRun | null,
  ): void {
    const upstream = route.system.serve[arm]
    this.#forward(plan, req, res, facts, upstream, shadow?.captureCap ?? 0, withBody ? req : null, (outcome) => {
      const status = outcome.error === null ? outcome.status : 0
      publishCall(channels.request, this, route.system.name, route.template, arm, status, outcome.durationMs)
      // fallbackToLegacy: a candidate that cannot be reached gets a retry on legacy, when nothing was
      // sent yet and the request can be replayed (idempotent, no body already streamed).
      if (
        outcome.error !== null &&
        arm === 'candidate' &&
        !outcome.started &&
        !withBody &&
        !res.destroyed &&
        route.system.fallbackToLegacy &&
        IDEMPOTENT.has(req.method!) &&
        isConnectFailure(outcome.error)
      ) {
        this.#serve(plan, route, 'legacy', req, res, facts, false, shadow)
        return true
      }
      shadow?.primaryDone(outcome)
      return false
    })
  }

  /** Forward and stream back; `after` may take over (retry) by returning true, else errors are answered here. */
  #forward(
    plan: GatewayPlan,
    req: IncomingMessage,
    res: ServerResponse,
    facts: ForwardFacts,
    upstream: Upstream,
    captureCap: number,
    body: IncomingMessage | null,
    after: ((o: ForwardOutcome) => boolean) | null,
  ): void {
    forwardToClient(
      {
        upstream,
        method: req.method!,
        path: upstream.basePath + req.url!,
        headers: upstreamRequestHeaders(facts, upstream.headers, false),
        body,
        timeoutMs: plan.upstreamTimeoutMs,
      },
      res,
      captureCap,
      (outcome) => {
        if (after !== null && after(outcome)) return
        if (outcome.error !== null) {
          if ((outcome.error as { code?: string }).code === 'TANDEM_CLIENT_ABORTED') return
          sendError(res, upstreamError(outcome.error, upstream.label, plan.upstreamTimeoutMs))
        }
      },
    )
  }
}

/** OPTIONS * is about the gateway itself; other targets that are not a path get a coded 400. */
function answerTarget(res: ServerResponse, target: Exclude<RequestTarget, { kind: 'path' }>): void {
  if (target.kind === 'asterisk') {
    res.writeHead(200, { allow: ALLOW, 'content-length': 0 })
    res.end()
    return
  }
  sendError(
    res,
    target.kind === 'outside-root'
      ? new TandemError('TANDEM_ERR_PATH_OUTSIDE_ROOT', { path: target.path })
      : new TandemError('TANDEM_ERR_BAD_TARGET', { detail: target.detail }),
  )
}

/**
 * Malformed requests, oversized headers and a request head that does not arrive: a coded 4xx, and the connection is
 * closed.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket, headersTimeoutMs: number): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy()
    return
  }
  const [tandem, reason] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [new TandemError('TANDEM_ERR_HEADERS_TOO_LARGE', {}), 'Request Header Fields Too Large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [new TandemError('TANDEM_ERR_REQUEST_TIMEOUT', { timeout: `${headersTimeoutMs}ms` }), 'Request Timeout']
        : [new TandemError('TANDEM_ERR_BAD_REQUEST', { detail: error.code ?? error.message }), 'Bad Request']
  const body = JSON.stringify({ code: tandem.code, message: tandem.message })
  socket.end(
    `HTTP/1.1 ${tandem.status} ${reason}\r\nconnection: close\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}

export function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':')
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '')
  return { host, port: Number(listen.slice(i + 1)) }
}
