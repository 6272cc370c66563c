// Row-level comparison of downloaded canonical rows, and the JSONL difference records
// `{ op: "-"|"+"|"~", key, from, to }` a data diff reports.
import type { DiffPlan } from './plan.js'
import type { KeyTuple } from './sql.js'

export type CanonRow = ReadonlyArray<string | null>

export interface DiffRow {
  /** `-` only in from, `+` only in to, `~` in both with different values. */
  readonly op: '-' | '+' | '~'
  /** Key columns (from-side names); integer keys as numbers when they fit, else canonical text. */
  readonly key: Record<string, string | number>
  /** The from row's canonical values by from-side column name, or null when absent. */
  readonly from: Record<string, string | null> | null
  readonly to: Record<string, string | null> | null
  /** For `~`: the columns whose values differ. */
  readonly columns?: readonly string[]
}

/** Database values as canonical text (drivers may hand back Buffers, numbers or bigints). */
export function toCanonRow(row: readonly unknown[]): CanonRow {
  return row.map((v) => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v)))
}

export function keyOf(row: CanonRow, keyCount: number): KeyTuple {
  return row.slice(0, keyCount).map((v) => v ?? '')
}

/** Compare two sets of rows of the same key range; keys are matched exactly, so order does not matter. */
export function compareRows(plan: DiffPlan, fromRows: readonly CanonRow[], toRows: readonly CanonRow[]): DiffRow[] {
  const toByKey = new Map<string, CanonRow>()
  for (const r of toRows) toByKey.set(JSON.stringify(keyOf(r, plan.keyCount)), r)
  const out: DiffRow[] = []
  for (const a of fromRows) {
    const id = JSON.stringify(keyOf(a, plan.keyCount))
    const b = toByKey.get(id)
    if (!b) {
      out.push(record(plan, '-', a, null))
      continue
    }
    toByKey.delete(id)
    const changed = plan.names.filter((_, i) => a[i] !== b[i])
    if (changed.length > 0) out.push({ ...record(plan, '~', a, b), columns: changed })
  }
  for (const b of toByKey.values()) out.push(record(plan, '+', null, b))
  return out
}

function record(plan: DiffPlan, op: DiffRow['op'], from: CanonRow | null, to: CanonRow | null): DiffRow {
  const source = (from ?? to) as CanonRow
  const key: Record<string, string | number> = {}
  for (let i = 0; i < plan.keyCount; i++) {
    const v = source[i] ?? ''
    const asInt = plan.kinds[i]?.family === 'int' && /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v))
    key[plan.names[i] as string] = asInt ? Number(v) : v
  }
  return { op, key, from: from ? named(plan, from) : null, to: to ? named(plan, to) : null }
}

function named(plan: DiffPlan, row: CanonRow): Record<string, string | null> {
  return Object.fromEntries(plan.names.map((n, i) => [n, row[i] ?? null]))
}

/** The key tuple of a reported row, back in canonical text form. */
export function tupleOf(plan: DiffPlan, row: DiffRow): KeyTuple {
  return plan.names.slice(0, plan.keyCount).map((n) => String(row.key[n]))
}

/** Order rows by key: integers numerically, text in UTF-8 byte order (the order the databases split on). */
export function compareKeys(plan: DiffPlan, a: DiffRow, b: DiffRow): number {
  for (let i = 0; i < plan.keyCount; i++) {
    const n = plan.names[i] as string
    const x = String(a.key[n])
    const y = String(b.key[n])
    if (x === y) continue
    if (plan.kinds[i]?.family === 'int') return BigInt(x) < BigInt(y) ? -1 : 1
    return Buffer.compare(Buffer.from(x, 'utf8'), Buffer.from(y, 'utf8'))
  }
  return 0
}
