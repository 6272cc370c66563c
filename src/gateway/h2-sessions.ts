// HTTP/2 client sessions to targets (node:http2), one per origin and TLS settings, reopened after a
// GOAWAY or a failure; h2-upstream.ts sends calls on them.
import { connect, type ClientHttp2Session, type SecureClientSessionOptions } from 'node:http2'
import type { TargetTls } from './tls-files.js'

/** Client sessions to targets, one per origin, reopened after a GOAWAY or a failure. */
export class H2Sessions {
  readonly #sessions = new Map<string, ClientHttp2Session>()

  get(upstream: { readonly url: URL; readonly tls?: TargetTls }): ClientHttp2Session {
    const url = upstream.url
    const tls = upstream.tls
    const key = `${url.origin} ${tls?.ca === undefined ? '' : tls.ca.length} ${tls?.rejectUnauthorized ?? ''}`
    const known = this.#sessions.get(key)
    if (known !== undefined && !known.closed && !known.destroyed) return known
    // noDelay: small frames (a unary call) go out at once, not after the peer's delayed ACK.
    const session = connect(url.origin, { ...(upstream.tls ?? {}), noDelay: true } as SecureClientSessionOptions)
    const forget = () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key)
    }
    session.on('error', forget)
    session.once('goaway', forget)
    session.once('close', forget)
    // An idle session is closed; the next call opens a new one.
    session.setTimeout(30_000, () => session.close())
    this.#sessions.set(key, session)
    return session
  }

  closeAll(): void {
    for (const session of this.#sessions.values()) session.close()
    this.#sessions.clear()
  }
}
