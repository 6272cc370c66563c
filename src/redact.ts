// The one redaction of secrets in text that Tandem prints, logs or stores (SPEC 10: no error, log line
// or report prints a password or token from a URL or a config): the password in a URL's userinfo and
// the values of query parameters named like secrets. Every TandemError message goes through it
// (errors.ts), and so do store, database and broker URLs, hook, probe and health-check outcomes, and the
// request URL of stored comparison samples (compare/redact.ts adds the `query.NAME` entries of
// compare.redact).

/** What a secret is replaced with. */
export const MASK = '***'

/**
 * A query parameter is a secret when one of the words of its name ends with one of these:
 * `token`, `access_token`, `apiKey`, `X-Amz-Signature`, `client_secret`, `sslpassword`, `oauth`.
 */
export const SECRET_PARAM_WORDS: readonly string[] = [
  'token',
  'key',
  'secret',
  'password',
  'passwd',
  'pwd',
  'signature',
  'sig',
  'credential',
  'credentials',
  'auth',
]

export interface RedactOptions {
  /** More query parameter names (case-insensitive, whole names) whose values are secrets. */
  readonly params?: Iterable<string>
}

// The authority and the rest of a URL (from its `://`) inside free text: it ends at whitespace, a double
// quote or a bracket around it (not at `'`, which a userinfo may hold unencoded).
const AFTER_SCHEME = /:\/\/[^\s"`<>]+/g
// One query (or form) parameter: `?name=value` or `&name=value`.
const QUERY_PARAM = /([?&;])([^=&;#?\s"'`<>]+)=([^&;#\s"'`<>]*)/g

/**
 * `text` with every URL password and every secret query parameter value replaced by `***`; works on one
 * URL (`postgres://u:pw@h/db`, `/path?token=x`) and on free text that contains URLs (driver messages).
 * Everything else is kept as written, so the host, port, user, database and error stay readable.
 */
export function redactSecrets(text: string, options: RedactOptions = {}): string {
  const extra = new Set([...(options.params ?? [])].map((p) => p.toLowerCase()))
  return text
    .replace(AFTER_SCHEME, maskUserinfoPassword)
    .replace(QUERY_PARAM, (whole, sep: string, name: string) =>
      isSecretParam(name, extra) ? `${sep}${name}=${MASK}` : whole,
    )
}

/** Whether a query parameter's value is a secret (its name, URL-encoded or not). */
export function isSecretParam(name: string, extra: ReadonlySet<string> = new Set()): boolean {
  const plain = decode(name)
  if (extra.has(plain.toLowerCase())) return true
  return words(plain).some((w) => SECRET_PARAM_WORDS.some((s) => w.endsWith(s)))
}

/**
 * `scheme://user:password@host...` -> `scheme://user:***@host...`. The userinfo ends at the last `@`
 * before the path that follows the first `@`, so a password written with an unencoded `@` or `/`
 * (which drivers then fail to parse, and print) is hidden whole, while an `@` later in the path or query
 * keeps the host readable. `https://host:443/@scope/pkg` is a port and a path, not a password.
 */
function maskUserinfoPassword(url: string): string {
  const start = 3 // the match starts with "://"
  const first = url.indexOf('@', start)
  if (first < 0) return url
  const pathAfter = url.slice(first).search(/[/?#]/)
  const at = url.lastIndexOf('@', pathAfter < 0 ? url.length : first + pathAfter)
  const userinfo = url.slice(start, at)
  const colon = userinfo.indexOf(':')
  if (colon < 0 || /[/?#]/.test(userinfo.slice(0, colon))) return url
  const password = userinfo.slice(colon + 1)
  if (password === '' || /^\d{1,5}\/$/.test(password)) return url
  return `${url.slice(0, start + colon + 1)}${MASK}${url.slice(at)}`
}

/** The words of a parameter name: split at punctuation and camelCase, lower-cased. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '')
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text
  }
}

/**
 * A webhook URL as it may be printed: its origin only (`https://hooks.slack.com/…`). Slack, Discord and
 * Teams webhooks carry their token in the path, where no parameter name says it is one.
 */
export function redactWebhook(url: string): string {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname === '/' && u.search === '' ? '' : '/…'}`
  } catch {
    return redactSecrets(url)
  }
}
