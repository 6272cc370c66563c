// Route matching: system routes (method + path template or glob) compiled once per config into
// segment patterns; the first match across systems, in config order, wins. Matching walks the path's
// segments with at most one backtrack point (the last `**` seen), so its work grows linearly with the
// path length for a given template: no regular expression, no catastrophic backtracking.

export interface RouteSpec<T> {
  /** Template (`/todos/:id`) or glob (`/todos/**`, `/files/*`, `*`). */
  readonly path: string
  /** Upper-case methods; undefined matches every method. */
  readonly methods?: readonly string[]
  /** What a match returns (the gateway stores the system and its metrics series here). */
  readonly value: T
}

/** One element of a template: `**` (any number of segments), `:param` (a non-empty segment) or a segment glob. */
type Element =
  | { readonly kind: 'any' }
  | { readonly kind: 'param' }
  /** Literal parts between `*`s: a segment glob `a*b*c` is ['a', 'b', 'c']; a literal segment has one part. */
  | { readonly kind: 'glob'; readonly parts: readonly string[] }

/** Counts the work of a match (segment and character comparisons); tests use it to prove the bound. */
export interface MatchMeter {
  steps: number
}

/**
 * A compiled template. Semantics: `:name` and `*` stay within one segment (`*` may match an empty one), `**` matches
 * any number of segments (also none), and one trailing slash is tolerated.
 */
export class PathPattern {
  readonly #elements: readonly Element[]
  /** `*`, `**` and `/**` match every path. */
  readonly everything: boolean

  constructor(template: string) {
    this.everything = template === '*' || template === '**' || template === '/**'
    this.#elements = template
      .split('/')
      .slice(1)
      .map((seg): Element => {
        if (seg === '**') return { kind: 'any' }
        if (seg.startsWith(':') && seg.length > 1) return { kind: 'param' }
        return { kind: 'glob', parts: seg.split('*') }
      })
  }

  /** Whether `path` (no query string) matches. */
  test(path: string, meter?: MatchMeter): boolean {
    if (this.everything) return path === '' || path.charCodeAt(0) === 47 /* / */
    const segments = splitPath(path)
    return segments !== null && this.testSegments(segments, meter)
  }

  /** Like `test`, on the path already split by `splitPath` (one split per request, shared by every route). */
  testSegments(segments: readonly string[], meter?: MatchMeter): boolean {
    if (this.everything) return true
    const n = segments.length
    if (this.#matches(segments, n, meter)) return true
    // The tolerated trailing slash: `/todos/` is also tried as `/todos`.
    return n > 0 && segments[n - 1] === '' && this.#matches(segments, n - 1, meter)
  }

  /**
   * Wildcard matching over segments: every element but `**` consumes exactly one segment, so on a
   * mismatch only the most recent `**` needs to absorb one more segment (earlier ones never do).
   * At most segments x elements element tests.
   */
  #matches(segments: readonly string[], n: number, meter: MatchMeter | undefined): boolean {
    const elements = this.#elements
    const m = elements.length
    let i = 0
    let j = 0
    let starJ = -1
    let starI = 0
    while (i < n) {
      if (meter !== undefined) meter.steps++
      const e = j < m ? elements[j]! : null
      if (e !== null && e.kind === 'any') {
        starJ = j++
        starI = i
      } else if (e !== null && segmentMatches(e, segments[i]!, meter)) {
        i++
        j++
      } else if (starJ !== -1) {
        j = starJ + 1
        i = ++starI
      } else {
        return false
      }
    }
    while (j < m && elements[j]!.kind === 'any') j++
    return j === m
  }
}

/** The segments of a path (`/a/b/` is ['a', 'b', '']); none for ''; null for a path not starting with `/`. */
export function splitPath(path: string): string[] | null {
  if (path === '') return []
  return path.charCodeAt(0) === 47 ? path.slice(1).split('/') : null
}

function segmentMatches(e: Element, segment: string, meter: MatchMeter | undefined): boolean {
  if (e.kind === 'param') return segment.length > 0
  if (e.kind === 'any') return true
  const parts = e.parts
  if (meter !== undefined) meter.steps += segment.length
  if (parts.length === 1) return segment === parts[0]
  // A glob: the first part is a prefix, the last a suffix (not overlapping it), and the middle parts
  // occur in order between them; taking each at its leftmost position is enough for `*` globs.
  const first = parts[0]!
  const last = parts[parts.length - 1]!
  if (segment.length < first.length + last.length || !segment.startsWith(first) || !segment.endsWith(last)) return false
  let at = first.length
  const end = segment.length - last.length
  for (let k = 1; k < parts.length - 1; k++) {
    const part = parts[k]!
    if (part === '') continue
    const found = segment.indexOf(part, at)
    if (found === -1 || found + part.length > end) return false
    at = found + part.length
  }
  return true
}

interface Compiled<T> {
  readonly pattern: PathPattern | null
  readonly literal: string | null
  readonly methods: ReadonlySet<string> | null
  readonly value: T
}

export class RouteMatcher<T> {
  readonly #routes: Compiled<T>[]

  constructor(routes: readonly RouteSpec<T>[]) {
    this.#routes = routes.map((r) => {
      const dynamic = r.path.includes(':') || r.path.includes('*')
      const methods =
        r.methods === undefined ? null : new Set(r.methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])))
      return {
        pattern: dynamic ? new PathPattern(r.path) : null,
        literal: dynamic ? null : r.path,
        methods,
        value: r.value,
      }
    })
  }

  /** The first route matching `method` and `path` (no query string), or undefined. */
  match(method: string, path: string): T | undefined {
    const routes = this.#routes
    let segments: string[] | null | undefined
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i]!
      if (r.methods !== null && !r.methods.has(method)) continue
      if (r.literal !== null) {
        if (r.literal === path || `${r.literal}/` === path) return r.value
        continue
      }
      const pattern = r.pattern!
      if (pattern.everything) {
        if (path === '' || path.charCodeAt(0) === 47) return r.value
        continue
      }
      if (segments === undefined) segments = splitPath(path)
      if (segments !== null && pattern.testSegments(segments)) return r.value
    }
    return undefined
  }
}
