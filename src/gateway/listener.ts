// The gateway's listening server: on cleartext, HTTP/1.1 (node:http) and prior-knowledge h2c on one port,
// told apart by the HTTP/2 preface on each new connection; with `gateway.tls`, one TLS server offering
// ALPN h2 and http/1.1. HTTP/2 sessions close gracefully on drain (GOAWAY: open streams finish).
import { createServer, Server, type IncomingMessage, type ServerResponse } from 'node:http'
import {
  createServer as createH2Server,
  createSecureServer,
  type Http2Server,
  type Http2SecureServer,
  type ServerHttp2Session,
} from 'node:http2'
import type { AddressInfo, Socket } from 'node:net'
import { TandemH2Request, TandemH2Response } from './h2-request.js'
import type { ServerTls } from './tls-files.js'

export type GatewayRequest = IncomingMessage | TandemH2Request
export type GatewayResponse = ServerResponse | TandemH2Response

export interface ListenerHandlers {
  request(req: GatewayRequest, res: GatewayResponse): void
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void
  clientError(error: Error & { code?: string }, socket: Socket, headersTimeoutMs: number): void
}

export interface ClientLimits {
  readonly headersTimeout: number
  readonly idleTimeout: number
  readonly maxConnections: number
}

/** The HTTP/2 connection preface (RFC 9113 3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')

function startsLikePreface(chunk: Buffer): boolean {
  const n = Math.min(chunk.length, PREFACE.length)
  return chunk.compare(PREFACE, 0, n, 0, n) === 0
}

/** The HTTP/1.1 limits node:http reads from its server object (also on a TLS server with allowHTTP1). */
interface Http1Limits {
  headersTimeout: number
  keepAliveTimeout: number
  maxConnections: number
  requestTimeout: number
}

export class GatewayListener {
  /** What listens: node:http (cleartext) or the TLS server. */
  readonly #server: Server | Http2SecureServer
  /** The HTTP/2 server behind the cleartext listener (it never listens itself). */
  readonly #h2c: Http2Server | null
  readonly #sessions = new Set<ServerHttp2Session>()
  /** Cleartext connections whose first bytes have not arrived yet. */
  readonly #sniffing = new Set<Socket>()
  readonly #handlers: ListenerHandlers
  #limits: ClientLimits

  constructor(
    options: { tls: ServerTls | null; maxHeaderSize: number; limits: ClientLimits },
    handlers: ListenerHandlers,
  ) {
    const { limits, maxHeaderSize, tls } = options
    this.#handlers = handlers
    this.#limits = limits
    const h2Options = {
      settings: { maxHeaderListSize: maxHeaderSize },
      Http2ServerRequest: TandemH2Request,
      Http2ServerResponse: TandemH2Response,
    }
    const onRequest = (req: GatewayRequest, res: GatewayResponse) => handlers.request(req, res)
    if (tls === null) {
      const server = createServer(
        {
          maxHeaderSize,
          // Bodies may stream for as long as they need (uploads, downloads); the request head may not:
          // with requestTimeout 0 node:http also set headersTimeout to 0, so a silent connection stayed forever.
          requestTimeout: 0,
          headersTimeout: limits.headersTimeout,
          keepAliveTimeout: limits.idleTimeout,
          // How often node:http looks for connections past headersTimeout (the timeout's resolution).
          connectionsCheckingInterval: checkingInterval(limits),
        },
        onRequest,
      )
      this.#h2c = createH2Server(h2Options, onRequest)
      this.#h2c.on('session', (session) => this.#track(session))
      this.#sniffConnections(server)
      this.#server = server
    } else {
      const secure = { cert: tls.cert, key: tls.key, allowHTTP1: true, ALPNProtocols: ['h2', 'http/1.1'] }
      const server = createSecureServer({ ...h2Options, ...secure }, onRequest)
      Object.assign(server, { maxHeaderSize, connectionsCheckingInterval: checkingInterval(limits) })
      server.on('session', (session) => this.#track(session))
      this.#h2c = null
      this.#server = server
    }
    this.applyLimits(limits)
    const server = this.#server as Server
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => handlers.upgrade(req, socket, head))
    server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
      handlers.clientError(error, socket, this.#limits.headersTimeout)
    })
  }

  /** Set on listen and again on reload (node:http reads them for every new connection and check). */
  applyLimits(limits: ClientLimits): void {
    this.#limits = limits
    const server = this.#server as unknown as Http1Limits
    server.headersTimeout = limits.headersTimeout
    server.keepAliveTimeout = limits.idleTimeout
    server.maxConnections = limits.maxConnections
    server.requestTimeout = 0
  }

  /** A new certificate for new connections (reload); open connections keep theirs. */
  setCertificate(tls: ServerTls): boolean {
    if (!('setSecureContext' in this.#server)) return false
    this.#server.setSecureContext({ cert: tls.cert, key: tls.key })
    return true
  }

  get secure(): boolean {
    return this.#h2c === null
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    const server = this.#server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return server.address() as AddressInfo
  }

  /** Stop accepting; idle HTTP/1.1 connections close, HTTP/2 sessions are told to finish (GOAWAY). */
  stopAccepting(): Promise<void> {
    const server = this.#server
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    Server.prototype.closeIdleConnections.call(server)
    for (const socket of this.#sniffing) socket.destroy()
    for (const session of this.#sessions) session.close()
    return closed
  }

  /** Close every connection still open (after the drain). */
  closeAll(): void {
    Server.prototype.closeAllConnections.call(this.#server)
    for (const session of this.#sessions) session.destroy()
  }

  #track(session: ServerHttp2Session): void {
    this.#sessions.add(session)
    session.once('close', () => this.#sessions.delete(session))
    session.on('error', () => session.destroy())
    // An HTTP/2 connection with no stream and no frame for idleTimeout is closed (gracefully).
    session.setTimeout(this.#limits.idleTimeout, () => session.close())
  }

  /**
   * node:http's connection listener runs only once the first bytes show HTTP/1.1; the HTTP/2 preface
   * hands the connection to the h2c server. A connection that sends nothing gets node:http's 408.
   */
  #sniffConnections(server: Server): void {
    const http1 = server.listeners('connection')[0] as (socket: Socket) => void
    const h2c = this.#h2c!
    server.removeAllListeners('connection')
    server.on('connection', (socket: Socket) => {
      this.#sniffing.add(socket)
      socket.setTimeout(this.#limits.headersTimeout)
      const onTimeout = () => {
        this.#sniffing.delete(socket)
        socket.off('data', onData)
        const error = Object.assign(new Error('request head timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' })
        this.#handlers.clientError(error, socket, this.#limits.headersTimeout)
      }
      const onData = (chunk: Buffer) => {
        this.#sniffing.delete(socket)
        socket.setTimeout(0)
        socket.off('timeout', onTimeout)
        socket.pause()
        socket.unshift(chunk)
        if (startsLikePreface(chunk)) {
          h2c.emit('connection', socket)
        } else {
          http1.call(server, socket)
          socket.resume()
        }
      }
      socket.once('data', onData)
      socket.once('timeout', onTimeout)
      socket.once('close', () => this.#sniffing.delete(socket))
      socket.on('error', () => socket.destroy())
    })
  }
}

function checkingInterval(limits: ClientLimits): number {
  return Math.min(1_000, Math.max(50, Math.floor(limits.headersTimeout / 4)))
}
