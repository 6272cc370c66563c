// The request target as routes see it and upstreams receive it: absolute-form (`GET http://host/p`) is
// reduced to its path, percent-encoded unreserved characters are decoded, duplicate slashes merged and
// `.`/`..` segments removed (RFC 3986 6.2.2, 5.2.4). Routing on the raw target let `/x/../api/1` skip
// its route and `/api/items/../../secret` match `/api/items/**` while reaching something else upstream.

/** What the gateway does with a request target. */
export type RequestTarget =
  | {
      readonly kind: 'path'
      readonly url: string
      readonly path: string
      readonly query: string
      readonly host: string | null
    }
  /** `OPTIONS *`: a question about the server itself, answered by the gateway. */
  | { readonly kind: 'asterisk' }
  | { readonly kind: 'outside-root'; readonly path: string }
  | { readonly kind: 'unsupported'; readonly detail: string }

const ABSOLUTE = /^https?:\/\/([^/?#]*)([^#]*)$/i

/** Parse and normalise `target` (the request line's target, `req.url`). */
export function requestTarget(method: string, target: string): RequestTarget {
  let url = target
  let host: string | null = null
  if (url.charCodeAt(0) !== 47 /* / */) {
    if (url === '*')
      return method === 'OPTIONS'
        ? { kind: 'asterisk' }
        : { kind: 'unsupported', detail: `"*" is only valid with OPTIONS, not ${method}` }
    const m = ABSOLUTE.exec(url)
    if (m === null) return { kind: 'unsupported', detail: 'it is neither a path starting with / nor an http(s) URL' }
    host = m[1]!
    const rest = m[2]!
    url = rest === '' || rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : rest
  }
  const q = url.indexOf('?')
  const raw = q === -1 ? url : url.slice(0, q)
  const query = q === -1 ? '' : url.slice(q + 1)
  const path = normalizePath(raw)
  if (path === null) return { kind: 'outside-root', path: raw }
  return { kind: 'path', url: path === raw ? url : q === -1 ? path : `${path}?${query}`, path, query, host }
}

/**
 * `path` (starting with /) with percent-encoded unreserved characters decoded, duplicate slashes merged and
 * dot segments removed; a trailing slash is kept. Null when `..` climbs above the root. A path with no
 * `/.`, `//` or `%` (nearly every request) is returned as it is, without allocating.
 */
export function normalizePath(path: string): string | null {
  if (path.indexOf('/.') === -1 && path.indexOf('//') === -1 && path.indexOf('%') === -1) return path
  const decoded = path.indexOf('%') === -1 ? path : path.replace(/%([0-9A-Fa-f]{2})/g, decodeUnreserved)
  const segments = decoded.split('/')
  const out: string[] = []
  let trailing = false
  for (let k = 1; k < segments.length; k++) {
    const s = segments[k]!
    const last = k === segments.length - 1
    if (s === '' || s === '.') {
      if (last) trailing = true
      continue
    }
    if (s === '..') {
      if (out.length === 0) return null
      out.pop()
      if (last) trailing = true
      continue
    }
    out.push(s)
  }
  if (out.length === 0) return '/'
  return `/${out.join('/')}${trailing ? '/' : ''}`
}

/** RFC 3986 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~" mean the same encoded or not. */
function decodeUnreserved(whole: string, hex: string): string {
  const c = Number.parseInt(hex, 16)
  const unreserved =
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  return unreserved ? String.fromCharCode(c) : whole
}
