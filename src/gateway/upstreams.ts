// Upstream targets and their undici pools: one keep-alive pool per origin (and a separate one for
// mirror traffic, so a slow shadow arm can never take connections from requests clients wait on).
import { buildConnector, Pool } from 'undici'
import type { TargetConfig } from '../config/schema.js'
import { H2Sessions } from './h2-sessions.js'
import { compileTargetHeaders } from './headers.js'
import { readTlsFile, type TargetTls } from './tls-files.js'
import type { Upstream } from './upstream-call.js'

export type { Upstream } from './upstream-call.js'
export type { TargetTls } from './tls-files.js'

export interface PoolOptions {
  readonly connections: number
  readonly connectTimeoutMs: number
}

/** How to talk to a target: `protocol` and `tls` of its config. */
export interface TargetTransport {
  readonly protocol?: TargetConfig['protocol']
  readonly tls?: TargetConfig['tls']
  /** A gRPC target (always HTTP/2, h2c for http://): the grpc-status values that are errors. */
  readonly grpc?: ReadonlySet<number>
}

/** undici options for a target's protocol: http1, h2c (prior knowledge) or h2 (ALPN over TLS). */
function transportOptions(
  url: URL,
  transport: TargetTransport,
  tls: TargetTls | undefined,
  connectTimeoutMs: number,
): Record<string, unknown> {
  const secure = url.protocol === 'https:'
  // https:// negotiates by ALPN unless told http1; h2c is HTTP/2 without TLS (prior knowledge).
  const h2 = transport.protocol === 'h2' || transport.protocol === 'h2c' || (secure && transport.protocol === undefined)
  return {
    ...(h2 ? { allowH2: true } : {}),
    // undici's Pool does not pass useH2c on to the connector it builds: give it one that does.
    ...(transport.protocol === 'h2c' && !secure
      ? { connect: buildConnector({ allowH2: true, useH2c: true, timeout: connectTimeoutMs } as never) }
      : {}),
    ...(tls === undefined ? {} : { connect: { ...tls } }),
  }
}

export class PoolRegistry {
  readonly #pools = new Map<string, Pool>()
  readonly #h2 = new H2Sessions()

  /** The pool for `origin`; `kind` keeps mirror traffic on its own connections. */
  pool(
    origin: string,
    kind: 'serve' | 'mirror',
    options: PoolOptions,
    transport: Record<string, unknown> = {},
    variant = '',
  ): Pool {
    const key = `${kind} ${origin} ${options.connections} ${options.connectTimeoutMs} ${variant}`
    let pool = this.#pools.get(key)
    if (pool === undefined) {
      pool = new Pool(origin, {
        connections: options.connections,
        pipelining: 1,
        connectTimeout: options.connectTimeoutMs,
        keepAliveTimeout: 4_000,
        // Timeouts are set per request (gateway.upstreamTimeout, shadow.timeout).
        headersTimeout: 0,
        bodyTimeout: 0,
        ...transport,
      })
      this.#pools.set(key, pool)
    }
    return pool
  }

  upstream(
    label: string,
    url: string,
    headers: Readonly<Record<string, string>>,
    host: 'keep' | 'target',
    kind: 'serve' | 'mirror',
    options: PoolOptions,
    transport: TargetTransport = {},
  ): Upstream {
    const parsed = new URL(url)
    const basePath = parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/$/, '')
    const tls = targetTls(parsed, transport, label)
    // Targets with a protocol or TLS settings get pools of their own (the key tells them apart).
    const variant =
      transport.protocol === undefined && tls === undefined ? '' : JSON.stringify([transport.protocol, tls])
    const poolOptions = transportOptions(parsed, transport, tls, options.connectTimeoutMs)
    const pool = this.pool(parsed.origin, kind, options, poolOptions, variant)
    return {
      label,
      pool,
      basePath,
      headers: compileTargetHeaders(parsed, headers, host),
      url: parsed,
      ...(tls === undefined ? {} : { tls }),
      ...(transport.grpc === undefined ? {} : { h2: this.#h2, grpcErrorCodes: transport.grpc }),
    }
  }

  /** Close (gracefully: in-flight requests finish) every pool not in `keep`. */
  async retain(keep: ReadonlySet<Pool>): Promise<void> {
    const closing: Promise<void>[] = []
    for (const [key, pool] of this.#pools) {
      if (!keep.has(pool)) {
        this.#pools.delete(key)
        closing.push(pool.close().catch(() => {}))
      }
    }
    await Promise.all(closing)
  }

  async closeAll(): Promise<void> {
    this.#h2.closeAll()
    await this.retain(new Set())
  }
}

/** A target's `tls: { ca, insecure }` as connect options (the CA file is read now: a bad one is a coded error). */
function targetTls(url: URL, transport: TargetTransport, label: string): TargetTls | undefined {
  if (url.protocol !== 'https:' || transport.tls === undefined) return undefined
  const { ca, insecure } = transport.tls
  const pem = ca === undefined ? {} : { ca: readTlsFile(ca, `tls.ca of the ${label}`).toString() }
  return { ...pem, rejectUnauthorized: !insecure }
}
