// Upstream targets and their undici pools: one keep-alive pool per origin (and a separate one for
// mirror traffic, so a slow shadow arm can never take connections from requests clients wait on).
import { Pool } from 'undici'
import { compileTargetHeaders, type TargetHeaders } from './headers.js'

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
}

/** A target's `tls: { ca, insecure }`, as node:tls connect options. */
export interface TargetTls {
  readonly ca?: string
  readonly rejectUnauthorized: boolean
}

export interface PoolOptions {
  readonly connections: number
  readonly connectTimeoutMs: number
}

export class PoolRegistry {
  readonly #pools = new Map<string, Pool>()

  /** The pool for `origin`; `kind` keeps mirror traffic on its own connections. */
  pool(origin: string, kind: 'serve' | 'mirror', options: PoolOptions): Pool {
    const key = `${kind} ${origin} ${options.connections} ${options.connectTimeoutMs}`
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
      })
      this.#pools.set(key, pool)
    }
    return pool
  }

  upstream(label: string, url: string, headers: Readonly<Record<string, string>>, host: 'keep' | 'target', kind: 'serve' | 'mirror', options: PoolOptions): Upstream {
    const parsed = new URL(url)
    const basePath = parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/$/, '')
    return { label, pool: this.pool(parsed.origin, kind, options), basePath, headers: compileTargetHeaders(parsed, headers, host), url: parsed }
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
    await this.retain(new Set())
  }
}
