// NATS subject patterns: whether a `?subject=` filter only matches subjects a JetStream stream stores,
// so a filter outside the stream is a coded error before any consumer is created.

/**
 * True when every subject `filter` matches is also matched by `pattern` (tokens split on `.`; `*` is one
 * token, `>` one or more trailing tokens).
 */
export function subjectSubsetOf(filter: string, pattern: string): boolean {
  const f = filter.split('.')
  const p = pattern.split('.')
  for (let i = 0; i < f.length; i++) {
    const pt = p[i]
    const ft = f[i] as string
    if (pt === undefined) return false
    if (pt === '>') return true
    if (ft === '>') return false
    if (pt === '*') continue
    if (ft !== pt) return false
  }
  return f.length === p.length
}

/**
 * A filter fits a stream when it is within one of the stream's subjects (a stream without any, e.g. a mirror, takes
 * any).
 */
export function filterWithinStream(filter: string, subjects: readonly string[]): boolean {
  return subjects.length === 0 || subjects.some((s) => subjectSubsetOf(filter, s))
}
