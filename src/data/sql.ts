// SQL fragments for one side of a diff: key-range predicates over key tuples, segment expressions,
// and the checksum, sampling and download queries. Integer keys are inlined as validated literals.
import { TandemError } from '../errors.js'
import { postgresRecordHash } from './source-postgres.js'
import type { SidePlan } from './plan.js'
import type { ColumnRef } from './source.js'

/** A key as canonical texts, one per key column. */
export type KeyTuple = readonly string[]

/** The half-open key range [lo, hi); a missing bound is unbounded. */
export interface KeyRange {
  readonly lo?: KeyTuple
  readonly hi?: KeyTuple
}

/** How a range is cut into segments: arithmetic on a single integer key, or sampled boundary tuples. */
export type Split =
  | { readonly type: 'int'; readonly lo: bigint; readonly step: bigint }
  | { readonly type: 'bounds'; readonly bounds: readonly KeyTuple[] }

export function intLiteral(value: string): string {
  if (!/^-?\d+$/.test(value))
    throw new TandemError('TANDEM_ERR_DATA_OPTION', { detail: `integer key value expected, got "${value}"` })
  return `(${value})`
}

/** Collects parameters for one statement and renders placeholders in the side's dialect. */
export class Statement {
  readonly params: unknown[] = []
  constructor(
    readonly side: SidePlan,
    readonly keyCount: number,
  ) {}

  private value(col: ColumnRef, value: string): string {
    if (col.kind.family === 'int') return intLiteral(value)
    this.params.push(value)
    return this.side.source.dialect.keyParam(this.side.source.dialect.placeholder(this.params.length), col)
  }

  keyExpr(col: ColumnRef): string {
    return col.kind.family === 'int' ? col.sql : this.side.source.dialect.keyExpr(col)
  }

  private keys(): readonly ColumnRef[] {
    return this.side.cols.slice(0, this.keyCount)
  }

  /** key tuple < t, expanded lexicographically (portable; no row-value syntax). */
  lessThan(t: KeyTuple): string {
    const keys = this.keys()
    const terms: string[] = []
    for (let i = 0; i < keys.length; i++) {
      const parts: string[] = []
      for (let j = 0; j < i; j++)
        parts.push(`${this.keyExpr(keys[j] as ColumnRef)} = ${this.value(keys[j] as ColumnRef, t[j] ?? '')}`)
      parts.push(`${this.keyExpr(keys[i] as ColumnRef)} < ${this.value(keys[i] as ColumnRef, t[i] ?? '')}`)
      terms.push(`(${parts.join(' AND ')})`)
    }
    return `(${terms.join(' OR ')})`
  }

  equals(t: KeyTuple): string {
    return `(${this.keys()
      .map((k, i) => `${this.keyExpr(k)} = ${this.value(k, t[i] ?? '')}`)
      .join(' AND ')})`
  }

  /** The WHERE condition for a range plus the user's --where. */
  range(range: KeyRange): string {
    const parts: string[] = []
    if (range.lo) parts.push(`NOT ${this.lessThan(range.lo)}`)
    if (range.hi) parts.push(this.lessThan(range.hi))
    if (this.side.where) parts.push(`(${this.side.where})`)
    return parts.length === 0 ? '1=1' : parts.join(' AND ')
  }

  segment(split: Split): string {
    if (split.type === 'int') {
      const key = this.keys()[0] as ColumnRef
      return this.side.source.dialect.intDiv(`${key.sql} - ${intLiteral(split.lo.toString())}`, split.step.toString())
    }
    if (split.bounds.length === 0) return '0'
    const whens = split.bounds.map((b, i) => `WHEN ${this.lessThan(b)} THEN ${i}`)
    return `CASE ${whens.join(' ')} ELSE ${split.bounds.length} END`
  }

  orderBy(): string {
    return this.keys()
      .map((k) => this.keyExpr(k))
      .join(', ')
  }
}

/** The per-row hash: the engine's own record hash when both sides allow it, else the portable md5 hash. */
export function hashExpr(side: SidePlan, fast: boolean): string {
  return fast ? postgresRecordHash(side.cols) : side.source.dialect.rowHash(side.cols)
}

/** count and hash sum per segment of a range. */
export function checksumQuery(
  side: SidePlan,
  keyCount: number,
  range: KeyRange,
  split: Split,
  fast: boolean,
): { sql: string; params: unknown[] } {
  const st = new Statement(side, keyCount)
  const seg = st.segment(split)
  const where = st.range(range)
  const sum = side.source.dialect.sum('h')
  const sql =
    `SELECT seg, count(*), ${sum} FROM (SELECT ${seg} AS seg, ${hashExpr(side, fast)} AS h ` +
    `FROM ${side.table} WHERE ${where}) s GROUP BY seg`
  return { sql, params: st.params }
}

/** Every `step`-th key of a range in key order: the boundaries of a split for non-arithmetic keys. */
export function sampleQuery(
  side: SidePlan,
  keyCount: number,
  range: KeyRange,
  step: bigint,
): { sql: string; params: unknown[] } {
  const st = new Statement(side, keyCount)
  const keys = side.cols.slice(0, keyCount)
  const canon = keys.map((k, i) => `${side.source.dialect.canon(k)} AS k${i}`).join(', ')
  const where = st.range(range)
  const outer = keys.map((_, i) => `k${i}`).join(', ')
  const sql =
    `SELECT ${outer} FROM (SELECT ${canon}, row_number() OVER (ORDER BY ${st.orderBy()}) AS rn ` +
    `FROM ${side.table} WHERE ${where}) s WHERE rn % ${step} = 0 ORDER BY rn`
  return { sql, params: st.params }
}

export function countQuery(side: SidePlan, keyCount: number, range: KeyRange): { sql: string; params: unknown[] } {
  const st = new Statement(side, keyCount)
  return { sql: `SELECT count(*) FROM ${side.table} WHERE ${st.range(range)}`, params: st.params }
}

export function minMaxQuery(side: SidePlan): string {
  const key = side.cols[0] as ColumnRef
  return `SELECT min(${key.sql}), max(${key.sql}) FROM ${side.table}${side.where ? ` WHERE (${side.where})` : ''}`
}

/** Canonical texts of every compared column for the rows of a range. */
export function downloadQuery(side: SidePlan, keyCount: number, range: KeyRange): { sql: string; params: unknown[] } {
  const st = new Statement(side, keyCount)
  const cols = side.cols.map((c) => side.source.dialect.canon(c)).join(', ')
  return { sql: `SELECT ${cols} FROM ${side.table} WHERE ${st.range(range)}`, params: st.params }
}

/** Canonical texts of every compared column for the given keys. */
export function rowsByKeyQuery(
  side: SidePlan,
  keyCount: number,
  keys: readonly KeyTuple[],
): { sql: string; params: unknown[] } {
  const st = new Statement(side, keyCount)
  const cols = side.cols.map((c) => side.source.dialect.canon(c)).join(', ')
  const match = keys.map((k) => st.equals(k)).join(' OR ')
  const where = side.where ? `(${match}) AND (${side.where})` : match
  return { sql: `SELECT ${cols} FROM ${side.table} WHERE ${where}`, params: st.params }
}

/** Rows of the side (with --where) that have a NULL canonical text in any key column. */
export function nullKeyCountQuery(side: SidePlan, keyCount: number): { sql: string; params: unknown[] } {
  const keys = side.cols.slice(0, keyCount)
  const anyNull = keys.map((k) => `${side.source.dialect.canon(k)} IS NULL`).join(' OR ')
  const where = side.where ? `(${anyNull}) AND (${side.where})` : anyNull
  return { sql: `SELECT count(*) FROM ${side.table} WHERE ${where}`, params: [] }
}

/**
 * Key values (in the binary order the diff splits on) that occur on more than one row: the first
 * `limit` of them with their row count, and on each the total number of such keys.
 */
export function duplicateKeysQuery(
  side: SidePlan,
  keyCount: number,
  limit: number,
): { sql: string; params: unknown[] } {
  const st = new Statement(side, keyCount)
  const keys = side.cols.slice(0, keyCount)
  const inner = keys.map((k, i) => `${st.keyExpr(k)} AS k${i}`).join(', ')
  const names = keys.map((_, i) => `k${i}`).join(', ')
  const where = side.where ? ` WHERE (${side.where})` : ''
  const grouped =
    `SELECT ${names}, count(*) AS n FROM (SELECT ${inner} FROM ${side.table}${where}) s ` +
    `GROUP BY ${names} HAVING count(*) > 1`
  return {
    sql: `SELECT ${names}, n, count(*) OVER () AS total FROM (${grouped}) g ORDER BY n DESC, ${names} LIMIT ${limit}`,
    params: st.params,
  }
}
