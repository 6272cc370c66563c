// Keeps web pages from driving the admin listener through the user's browser. Without admin.tokens
// every caller is admin, so a foreign page could POST an action (a form or a `no-cors` fetch needs no
// CORS permission) or, by DNS rebinding, read the API under its own name. With tokens the bearer
// header is the guard: a foreign page cannot attach it without a CORS preflight, which is never granted.
import type { Config } from '../config/schema.js'
import { TandemError } from '../errors.js'
import { isLoopbackHost, listenHost } from './bind-check.js'

export interface RequestHeaders {
  readonly method: string
  readonly url: string
  readonly host: string | undefined
  readonly origin: string | undefined
  readonly contentType: string | undefined
  /** Port the request arrived on (for the error message). */
  readonly localPort: number | undefined
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** The host name of a `Host` header value (`name:port`, `[v6]:port`), lower case, brackets and trailing dot removed. */
export function hostName(host: string): string | undefined {
  try {
    const name = new URL(`http://${host}`).hostname.toLowerCase()
    return name.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '')
  } catch {
    return undefined
  }
}

/**
 * Throws a coded error for a request a browser may have sent on a foreign page's behalf:
 * - every mutating call must declare `Content-Type: application/json` (forms and `text/plain`, the
 *   types a page may send cross-origin without a preflight, are refused);
 * - with no token configured, a `Host` other than a loopback name or admin.listen's host is refused,
 *   and so is an `Origin` other than the listener itself.
 */
export function assertBrowserSafe(config: Config, req: RequestHeaders): void {
  if (MUTATING.has(req.method)) {
    const type = req.contentType?.split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/json') {
      throw new TandemError('TANDEM_ERR_ADMIN_CONTENT_TYPE', {
        method: req.method,
        url: req.url.split('?')[0],
        got: req.contentType === undefined ? 'none' : `"${req.contentType}"`,
      })
    }
  }
  if (config.admin.tokens.length > 0) return
  // A request without Host is not from a browser (they always send it), so it cannot be rebinding.
  if (req.host !== undefined) {
    const name = hostName(req.host)
    const own = listenHost(config.admin.listen).toLowerCase()
    if (name === undefined || !(isLoopbackHost(name) || name === own)) {
      throw new TandemError('TANDEM_ERR_ADMIN_FOREIGN_HOST', { host: req.host, port: req.localPort ?? '8081' })
    }
  }
  if (req.origin !== undefined) {
    let originHost: string | undefined
    try {
      originHost = req.origin === 'null' ? undefined : new URL(req.origin).host.toLowerCase()
    } catch {
      originHost = undefined
    }
    const self = req.host === undefined ? undefined : new URL(`http://${req.host}`).host.toLowerCase()
    if (originHost === undefined || originHost !== self) {
      throw new TandemError('TANDEM_ERR_ADMIN_FOREIGN_ORIGIN', {
        origin: req.origin,
        host: req.host ?? `127.0.0.1:${req.localPort ?? 8081}`,
      })
    }
  }
}
