// JSON Pointer (RFC 6901) paths and the glob patterns of compare.ignore/unordered/keyedArrays/redact:
// `*` matches one segment, `**` any number of segments (including none).

export type Segment = string | number

/** Escape one reference token: `~` -> `~0`, `/` -> `~1`. */
export function escapeToken(token: string): string {
  return token.includes('~') || token.includes('/') ? token.replace(/~/g, '~0').replace(/\//g, '~1') : token
}

export function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~')
}

/** `['items', 0, 'a/b']` -> `/items/0/a~1b`; the empty path is the whole document. */
export function toPointer(segments: readonly Segment[]): string {
  let out = ''
  for (const s of segments) out += `/${typeof s === 'number' ? s : escapeToken(s)}`
  return out
}

/** The field key a difference is aggregated under: array indices become `*` (`/items/*\/price`). */
export function toFieldKey(segments: readonly Segment[]): string {
  let out = ''
  for (const s of segments) out += `/${typeof s === 'number' ? '*' : escapeToken(s)}`
  return out
}

export function parsePointer(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return pointer === '' ? [] : ['']
  const body = pointer.startsWith('/') ? pointer.slice(1) : pointer
  return body.split('/').map(unescapeToken)
}

/** A compiled glob; `**` segments are kept as a marker. */
export type Glob = readonly (string | typeof ANY_DEPTH)[]
export const ANY_DEPTH: unique symbol = Symbol('**')

export function compileGlob(pattern: string): Glob {
  return parsePointer(pattern).map((t) => (t === '**' ? ANY_DEPTH : t))
}

/** True when the glob matches the whole path. */
export function globMatches(glob: Glob, path: readonly Segment[], gi = 0, pi = 0): boolean {
  while (gi < glob.length) {
    const g = glob[gi]
    if (g === ANY_DEPTH) {
      if (gi === glob.length - 1) return true
      for (let k = pi; k <= path.length; k++) if (globMatches(glob, path, gi + 1, k)) return true
      return false
    }
    if (pi >= path.length) return false
    if (g !== '*' && g !== String(path[pi])) return false
    gi++
    pi++
  }
  return pi === path.length
}

/** True when a glob matches the path or one of its ancestors (an ignored object hides its subtree). */
export function globCovers(glob: Glob, path: readonly Segment[]): boolean {
  for (let len = path.length; len >= 0; len--)
    if (globMatches(glob, len === path.length ? path : path.slice(0, len))) return true
  return false
}
