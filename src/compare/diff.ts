// Structural diff of two JSON values: JSON Pointer paths, kinds changed|added|removed|type, ignore
// globs, unordered arrays as multisets, keyed arrays matched by a field, numeric tolerance. Key order
// never matters; array order does unless configured otherwise (no sorting by default, SPEC 4).
import { compileGlob, globCovers, globMatches, toFieldKey, toPointer, type Glob, type Segment } from './pointer.js'

export type DifferenceKind = 'changed' | 'added' | 'removed' | 'type'

export interface Difference {
  /** Concrete JSON Pointer, e.g. `/items/3/price`. */
  readonly path: string
  /** The path with array indices generalised (`/items/*\/price`): what counts aggregate under. */
  readonly field: string
  readonly kind: DifferenceKind
  readonly legacy: unknown
  readonly candidate: unknown
}

/** The `compare` keys that shape a diff, as written in tandem.yaml. */
export interface DiffSettings {
  readonly ignore?: readonly string[]
  readonly unordered?: readonly string[]
  readonly keyedArrays?: Readonly<Record<string, string>>
  readonly numericTolerance?: number
}

export interface DiffOptions {
  readonly ignore: readonly Glob[]
  readonly unordered: readonly Glob[]
  readonly keyed: readonly { readonly glob: Glob; readonly key: string }[]
  readonly numericTolerance: number
}

export function compileDiffOptions(s: DiffSettings = {}): DiffOptions {
  return {
    ignore: (s.ignore ?? []).map(compileGlob),
    unordered: (s.unordered ?? []).map(compileGlob),
    keyed: Object.entries(s.keyedArrays ?? {}).map(([p, key]) => ({ glob: compileGlob(p), key })),
    numericTolerance: s.numericTolerance ?? 0,
  }
}

export const NO_OPTIONS: DiffOptions = compileDiffOptions()

/** Every difference between legacy and candidate, in a stable order. */
export function diff(
  legacy: unknown,
  candidate: unknown,
  options: DiffOptions = NO_OPTIONS,
  base: readonly Segment[] = [],
): Difference[] {
  const out: Difference[] = []
  walk({ options, out }, legacy, candidate, [...base])
  return out
}

/** True when diff() would report nothing; stops at the first difference. */
export function equivalent(
  legacy: unknown,
  candidate: unknown,
  options: DiffOptions = NO_OPTIONS,
  base: readonly Segment[] = [],
): boolean {
  return walk({ options, out: null }, legacy, candidate, [...base])
}

interface Walk {
  readonly options: DiffOptions
  /** null: probe mode, stop at the first difference. */
  readonly out: Difference[] | null
}

type JsonType = 'null' | 'array' | 'object' | 'number' | 'string' | 'boolean' | 'undefined'

function typeOf(v: unknown): JsonType {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  const t = typeof v
  return t === 'number' || t === 'string' || t === 'boolean' || t === 'object' ? t : 'undefined'
}

/** Record a difference unless an ignore glob covers it; returns whether the values count as equal. */
function emit(w: Walk, path: Segment[], kind: DifferenceKind, legacy: unknown, candidate: unknown): boolean {
  for (const g of w.options.ignore) if (globCovers(g, path)) return true
  w.out?.push({ path: toPointer(path), field: toFieldKey(path), kind, legacy, candidate })
  return false
}

function walk(w: Walk, a: unknown, b: unknown, path: Segment[]): boolean {
  if (a === b) return true
  const ta = typeOf(a)
  const tb = typeOf(b)
  if (ta !== tb) return emit(w, path, 'type', a, b)
  switch (ta) {
    case 'number': {
      const tol = w.options.numericTolerance
      if (tol > 0 && Math.abs((a as number) - (b as number)) <= tol) return true
      return emit(w, path, 'changed', a, b)
    }
    case 'object':
      return walkObject(w, a as Record<string, unknown>, b as Record<string, unknown>, path)
    case 'array':
      return walkArray(w, a as unknown[], b as unknown[], path)
    default:
      return emit(w, path, 'changed', a, b)
  }
}

function walkObject(w: Walk, a: Record<string, unknown>, b: Record<string, unknown>, path: Segment[]): boolean {
  let equal = true
  for (const key in a) {
    if (!Object.hasOwn(a, key)) continue
    path.push(key)
    const same = Object.hasOwn(b, key) ? walk(w, a[key], b[key], path) : emit(w, path, 'removed', a[key], undefined)
    path.pop()
    if (!same) {
      equal = false
      if (w.out === null) return false
    }
  }
  for (const key in b) {
    if (!Object.hasOwn(b, key) || Object.hasOwn(a, key)) continue
    path.push(key)
    const same = emit(w, path, 'added', undefined, b[key])
    path.pop()
    if (!same) {
      equal = false
      if (w.out === null) return false
    }
  }
  return equal
}

function walkArray(w: Walk, a: unknown[], b: unknown[], path: Segment[]): boolean {
  for (const k of w.options.keyed) if (globMatches(k.glob, path)) return walkKeyed(w, a, b, path, k.key)
  for (const g of w.options.unordered) if (globMatches(g, path)) return walkUnordered(w, a, b, path)
  let equal = true
  const n = Math.max(a.length, b.length)
  for (let i = 0; i < n; i++) {
    path.push(i)
    const same =
      i >= b.length
        ? emit(w, path, 'removed', a[i], undefined)
        : i >= a.length
          ? emit(w, path, 'added', undefined, b[i])
          : walk(w, a[i], b[i], path)
    path.pop()
    if (!same) {
      equal = false
      if (w.out === null) return false
    }
  }
  return equal
}

/** Multiset comparison: equal elements pair up in order; the rest are removed/added at their index. */
function walkUnordered(w: Walk, a: unknown[], b: unknown[], path: Segment[]): boolean {
  const pairedB = new Array<boolean>(b.length).fill(false)
  const pairedA = new Array<boolean>(a.length).fill(false)
  // Fast pass: identical canonical forms pair up without a deep comparison.
  const byKey = new Map<string, number[]>()
  b.forEach((v, j) => {
    const k = canonical(v)
    const list = byKey.get(k)
    if (list) list.push(j)
    else byKey.set(k, [j])
  })
  a.forEach((v, i) => {
    const list = byKey.get(canonical(v))
    const j = list?.shift()
    if (j !== undefined) {
      pairedA[i] = true
      pairedB[j] = true
    }
  })
  // Slow pass for the rest: equality under ignore and tolerance.
  for (let i = 0; i < a.length; i++) {
    if (pairedA[i]) continue
    path.push(i)
    for (let j = 0; j < b.length; j++) {
      if (!pairedB[j] && walk({ options: w.options, out: null }, a[i], b[j], path)) {
        pairedA[i] = true
        pairedB[j] = true
        break
      }
    }
    path.pop()
  }
  let equal = true
  for (let i = 0; i < a.length; i++) {
    if (pairedA[i]) continue
    path.push(i)
    if (!emit(w, path, 'removed', a[i], undefined)) equal = false
    path.pop()
    if (!equal && w.out === null) return false
  }
  for (let j = 0; j < b.length; j++) {
    if (pairedB[j]) continue
    path.push(j)
    if (!emit(w, path, 'added', undefined, b[j])) equal = false
    path.pop()
    if (!equal && w.out === null) return false
  }
  return equal
}

/** Elements matched by `key`; a matched pair is reported at the legacy element's index. */
function walkKeyed(w: Walk, a: unknown[], b: unknown[], path: Segment[], key: string): boolean {
  const keyOf = (v: unknown, i: number): string => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, key))
      return `k:${canonical((v as Record<string, unknown>)[key])}`
    return `i:${i}`
  }
  const indexB = new Map<string, number[]>()
  b.forEach((v, j) => {
    const k = keyOf(v, j)
    const list = indexB.get(k)
    if (list) list.push(j)
    else indexB.set(k, [j])
  })
  const pairedB = new Array<boolean>(b.length).fill(false)
  let equal = true
  for (let i = 0; i < a.length; i++) {
    const j = indexB.get(keyOf(a[i], i))?.shift()
    path.push(i)
    let same: boolean
    if (j === undefined) same = emit(w, path, 'removed', a[i], undefined)
    else {
      pairedB[j] = true
      same = walk(w, a[i], b[j], path)
    }
    path.pop()
    if (!same) {
      equal = false
      if (w.out === null) return false
    }
  }
  for (let j = 0; j < b.length; j++) {
    if (pairedB[j]) continue
    path.push(j)
    if (!emit(w, path, 'added', undefined, b[j])) equal = false
    path.pop()
    if (!equal && w.out === null) return false
  }
  return equal
}

/** A key-order-independent text form of a JSON value, for multiset and key matching. */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined'
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  const keys = Object.keys(v).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
}
