// Route matching: system routes (method + path template or glob) compiled once per config into
// regular expressions; the first match across systems, in config order, wins.

export interface RouteSpec<T> {
  /** Template (`/todos/:id`) or glob (`/todos/**`, `/files/*`, `*`). */
  readonly path: string
  /** Upper-case methods; undefined matches every method. */
  readonly methods?: readonly string[]
  /** What a match returns (the gateway stores the system and its metrics series here). */
  readonly value: T
}

interface Compiled<T> {
  readonly regex: RegExp | null
  readonly literal: string | null
  readonly methods: ReadonlySet<string> | null
  readonly value: T
}

/** Path to regular expression: `:name` and `*` match one segment, `**` any number (also none). */
export function templateToRegExp(path: string): RegExp {
  if (path === '*' || path === '/**' || path === '**') return /^\/.*$|^$/
  let out = '^'
  const segments = path.split('/').slice(1)
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!
    if (seg === '**') {
      // `/a/**` matches `/a`, `/a/` and `/a/b/c`.
      out += i === segments.length - 1 ? '(?:/.*)?' : '(?:/[^/]*)*?'
      continue
    }
    out += '/'
    if (seg.startsWith(':') && seg.length > 1) out += '[^/]+'
    else out += seg.split('*').map(escape).join('[^/]*')
  }
  // A trailing slash is tolerated: `/todos` also matches `/todos/`.
  return new RegExp(`${out}/?$`)
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

export class RouteMatcher<T> {
  readonly #routes: Compiled<T>[]

  constructor(routes: readonly RouteSpec<T>[]) {
    this.#routes = routes.map((r) => {
      const dynamic = r.path.includes(':') || r.path.includes('*')
      const methods = r.methods === undefined ? null : new Set(r.methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])))
      return { regex: dynamic ? templateToRegExp(r.path) : null, literal: dynamic ? null : r.path, methods, value: r.value }
    })
  }

  /** The first route matching `method` and `path` (no query string), or undefined. */
  match(method: string, path: string): T | undefined {
    const routes = this.#routes
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i]!
      if (r.methods !== null && !r.methods.has(method)) continue
      if (r.literal !== null ? r.literal === path || `${r.literal}/` === path : r.regex!.test(path)) return r.value
    }
    return undefined
  }
}
