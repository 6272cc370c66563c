// WebSocket (any HTTP/1.1 Upgrade) tunnels: routed and arm-assigned like a request, never mirrored
// (skip `websocket`), then piped both ways with backpressure; a refused upgrade is an error in metrics.
import { STATUS_CODES, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Socket } from 'node:net'
import type { RoutingTable } from '../domain/routing-table.js'
import { mirrors, type Arm } from '../domain/stages.js'
import { TandemError } from '../errors.js'
import { assignArm } from './assign-arm.js'
import { channels, publishCall, publishShadow } from './diagnostics.js'
import { upstreamRequestHeaders, type ForwardFacts } from './headers.js'
import type { GatewayPlan } from './plan.js'
import { requestTarget } from './request-target.js'
import { upstreamError } from './upstream-error.js'
import type { Upstream } from './upstreams.js'

export interface TunnelDeps {
  readonly routing: RoutingTable
  /** The Gateway whose events these are (see diagnostics.ts). */
  readonly gateway: object
}

/** Where an Upgrade request goes: the upstream, and the route it is counted in (none for the fallback). */
interface TunnelTarget {
  readonly upstream: Upstream
  readonly counted: { readonly system: string; readonly route: string; readonly arm: Arm } | null
}

/** Open tunnels, so that a shutdown can end the ones still open after the drain. */
export class Tunnels {
  readonly #deps: TunnelDeps
  readonly #open = new Set<Socket>()

  constructor(deps: TunnelDeps) {
    this.#deps = deps
  }

  get size(): number {
    return this.#open.size
  }

  /** Route `req` (an Upgrade request), connect to the chosen upstream and pipe both ways. */
  open(plan: GatewayPlan, req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy())
    const target = this.#route(plan, req, socket)
    if (target instanceof TandemError) return refuse(socket, target)
    const { upstream, counted } = target
    const facts: ForwardFacts = {
      rawHeaders: req.rawHeaders,
      headers: req.headers,
      remoteAddress: socket.remoteAddress,
      encrypted: (socket as { encrypted?: boolean }).encrypted === true,
    }
    const headers = upstreamRequestHeaders(facts, upstream.headers, false)
    headers.push('connection', 'upgrade', 'upgrade', String(req.headers.upgrade))
    const start = performance.now()
    const record = (status: number): void => {
      if (counted === null) return
      const { system, route, arm } = counted
      publishCall(channels.request, this.#deps.gateway, system, route, arm, status, performance.now() - start)
    }
    const path = upstream.basePath + req.url!
    const upstreamReq = connectUpstream(upstream, req.method!, path, headers, plan.upstreamTimeoutMs)
    // The client may give up before the upstream answered.
    const abandon = () => upstreamReq.destroy()
    socket.once('close', abandon)
    upstreamReq.on('upgrade', (res: IncomingMessage, upstreamSocket: Socket, upstreamHead: Buffer) => {
      socket.off('close', abandon)
      record(res.statusCode ?? 101)
      this.#pipe(socket, head, upstreamSocket, upstreamHead, res)
    })
    upstreamReq.on('response', (res: IncomingMessage) => {
      // Refused: the upstream's answer goes back to the client as it is, and counts as an error.
      record(0)
      relayRefusal(res, socket)
    })
    upstreamReq.on('error', (error: Error) => {
      record(0)
      refuse(socket, upstreamError(error, upstream.label, plan.upstreamTimeoutMs))
    })
    upstreamReq.end()
  }

  /** End every open tunnel (half-close both ways: a peer that is sending its last frames can finish them). */
  closeAll(): void {
    for (const socket of this.#open) socket.destroySoon()
  }

  #route(plan: GatewayPlan, req: IncomingMessage, socket: Socket): TunnelTarget | TandemError {
    const target = requestTarget(req.method!, req.url!)
    if (target.kind === 'outside-root') return new TandemError('TANDEM_ERR_PATH_OUTSIDE_ROOT', { path: target.path })
    if (target.kind !== 'path') {
      const detail = target.kind === 'asterisk' ? '"*" cannot be upgraded' : target.detail
      return new TandemError('TANDEM_ERR_BAD_TARGET', { detail })
    }
    req.url = target.url
    if (target.host !== null) req.headers.host = target.host
    const route = plan.matcher.match(req.method!, target.path)
    if (route === undefined) {
      if (plan.fallback === null) {
        return new TandemError('TANDEM_ERR_NO_ROUTE', { method: req.method, path: target.path })
      }
      return { upstream: plan.fallback, counted: null }
    }
    const system = route.system
    const routing = this.#deps.routing.get(system.name)
    const facts = { headers: req.headers, query: target.query, remoteAddress: socket.remoteAddress }
    const arm = assignArm(system.policy, routing, facts)
    if (mirrors(routing.stage)) publishShadow(this.#deps.gateway, system.name, 'websocket')
    return { upstream: system.serve[arm], counted: { system: system.name, route: route.template, arm } }
  }

  /** Answer the client's upgrade with the upstream's 101 and pipe the two sockets into each other. */
  #pipe(client: Socket, head: Buffer, upstream: Socket, upstreamHead: Buffer, res: IncomingMessage): void {
    upstream.setTimeout(0)
    upstream.setNoDelay(true)
    client.setNoDelay(true)
    client.write(statusLine(res) + rawHeaderBlock(res.rawHeaders))
    if (upstreamHead.length > 0) client.write(upstreamHead)
    if (head.length > 0) upstream.write(head)
    this.#open.add(client)
    // pipe() pauses the reader while the writer's buffer is full: a flood waits in the kernel buffers.
    client.pipe(upstream)
    upstream.pipe(client)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    // A side that is gone ends the other once what was written to it is flushed.
    upstream.once('close', () => client.destroySoon())
    client.once('close', () => {
      this.#open.delete(client)
      upstream.destroySoon()
    })
  }
}

function connectUpstream(
  upstream: Upstream,
  method: string,
  path: string,
  headers: string[],
  timeoutMs: number,
): ClientRequest {
  const url = upstream.url
  const secure = url.protocol === 'https:'
  const options = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    method,
    path,
    headers,
    agent: false,
    timeout: timeoutMs,
    ...(secure ? (upstream.tls ?? {}) : {}),
  }
  const req = secure ? httpsRequest(options) : httpRequest(options)
  req.once('timeout', () => {
    req.destroy(Object.assign(new Error('upgrade timed out'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))
  })
  return req
}

function statusLine(res: IncomingMessage): string {
  return `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n`
}

function rawHeaderBlock(raw: readonly string[], skip: ReadonlySet<string> = new Set()): string {
  let out = ''
  for (let i = 0; i < raw.length; i += 2) if (!skip.has(raw[i]!.toLowerCase())) out += `${raw[i]}: ${raw[i + 1]}\r\n`
  return `${out}\r\n`
}

const FRAMING = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length'])

/** The upstream answered the upgrade with a plain response: relay it and close the connection. */
function relayRefusal(res: IncomingMessage, socket: Socket): void {
  const chunks: Buffer[] = []
  let size = 0
  res.on('data', (c: Buffer) => {
    // A refusal's body is an explanation, not a download: keep at most 64 KiB of it.
    if (size < 65_536) chunks.push(c)
    size += c.length
  })
  res.once('end', () => {
    const body = Buffer.concat(chunks).subarray(0, 65_536)
    const head = statusLine(res) + rawHeaderBlock(res.rawHeaders, FRAMING).slice(0, -2)
    socket.end(Buffer.concat([Buffer.from(`${head}connection: close\r\ncontent-length: ${body.length}\r\n\r\n`), body]))
  })
  res.once('error', () => socket.destroy())
}

/** A coded JSON answer on a socket whose request asked for an upgrade, then close. */
export function refuse(socket: Socket, error: TandemError): void {
  if (!socket.writable) return void socket.destroy()
  const body = JSON.stringify({ code: error.code, message: error.message })
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\nconnection: close\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}
