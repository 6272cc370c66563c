// Incremental verification of a table (SPEC 13): the rows whose updatedAt lies in a window are read by
// key from both databases as canonical texts and compared, so the cost follows the writes, not the table.
import { TandemError } from '../errors.js'
import { run } from './bisect.js'
import type { DiffPlan, SidePlan } from './plan.js'
import { compareRows, keyOf, toCanonRow, type DiffRow } from './rows.js'
import { rowsByKeyQuery, type KeyTuple } from './sql.js'
import type { ColumnInfo } from './source.js'

export interface ChangedRowsResult {
  /** Distinct keys whose updatedAt lies in the window on either side. */
  readonly rowsChecked: number
  readonly rows: readonly DiffRow[]
}

/** Keys per by-key query: large enough to be cheap, small enough for every engine's statement limits. */
const BATCH = 500

/**
 * Refuses what would make the comparison meaningless: an updatedAt column missing on a side, or a
 * key column whose type family differs between the sides (ids would never match).
 */
export async function checkMoveTable(plan: DiffPlan, updatedAt: string): Promise<void> {
  for (const side of [plan.from, plan.to]) {
    const info = await side.source.describe(unquoted(side))
    if (info?.columns.some((c) => c.name.toLowerCase() === updatedAt.toLowerCase()) !== true) {
      throw new TandemError('TANDEM_ERR_DATA_UPDATED_AT', {
        table: plan.table,
        column: updatedAt,
        url: side.source.label,
      })
    }
  }
  for (let i = 0; i < plan.keyCount; i++) {
    const a = plan.from.cols[i]!.info
    const b = plan.to.cols[i]!.info
    if (keyFamily(a) !== keyFamily(b)) {
      const from = `${a.type} (${a.family}) on ${plan.from.source.label}`
      const detail = `${a.name} is ${from} but ${b.type} (${b.family}) on ${plan.to.source.label}`
      throw new TandemError('TANDEM_ERR_DATA_KEY_TYPE', { table: plan.table, detail })
    }
  }
}

// Integer and decimal keys hold the same values; any other pair of families cannot match key by key.
const keyFamily = (c: ColumnInfo): string => (c.family === 'decimal' ? 'int' : c.family)

/** The table name as configured (the plan keeps it quoted for SQL). */
function unquoted(side: SidePlan): string {
  return side.table.replace(/["`]/g, '')
}

/** Compare the rows changed in [since, until) (ms) by their updatedAt column on either side. */
export async function verifyChangedRows(
  plan: DiffPlan,
  updatedAt: string,
  since: number,
  until: number,
): Promise<ChangedRowsResult> {
  const [a, b] = await Promise.all([
    changedKeys(plan.from, plan, updatedAt, since, until),
    changedKeys(plan.to, plan, updatedAt, since, until),
  ])
  const keys = new Map<string, KeyTuple>()
  for (const k of [...a, ...b]) keys.set(JSON.stringify(k), k)
  const all = [...keys.values()]
  const rows: DiffRow[] = []
  for (let i = 0; i < all.length; i += BATCH) {
    const batch = all.slice(i, i + BATCH)
    const [from, to] = await Promise.all([byKey(plan.from, plan, batch), byKey(plan.to, plan, batch)])
    rows.push(...compareRows(plan, from, to))
  }
  return { rowsChecked: all.length, rows: rows.filter((r) => !movedOn(plan, r, updatedAt, sqlTime(until))) }
}

/**
 * A row written again after the window (on either side) is judged by the next window, where its new
 * updatedAt falls: its current values may be a dual write still in flight. Canonical timestamps
 * (`YYYY-MM-DD HH:MM:SS.ffffff`) order as text like `sqlTime`'s.
 */
function movedOn(plan: DiffPlan, row: DiffRow, updatedAt: string, until: string): boolean {
  const name = plan.names.find((n) => n.toLowerCase() === updatedAt.toLowerCase())
  if (name === undefined) return false
  return [row.from?.[name], row.to?.[name]].some((v) => v !== undefined && v !== null && v >= until)
}

/** UTC `YYYY-MM-DD HH:MM:SS.mmm`: read as UTC by PostgreSQL (sessions in UTC) and MySQL DATETIME alike. */
export function sqlTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}

async function changedKeys(
  side: SidePlan,
  plan: DiffPlan,
  updatedAt: string,
  since: number,
  until: number,
): Promise<KeyTuple[]> {
  const d = side.source.dialect
  const col = d.quote(updatedAt)
  const keys = side.cols.slice(0, plan.keyCount).map((k) => d.canon(k))
  const where = side.where ? ` AND (${side.where})` : ''
  const window = `${col} >= ${d.placeholder(1)} AND ${col} < ${d.placeholder(2)}`
  const sql = `SELECT ${keys.join(', ')} FROM ${side.table} WHERE ${window}${where}`
  const rows = await run(side, { sql, params: [sqlTime(since), sqlTime(until)] })
  return rows.map((r) => keyOf(toCanonRow(r), plan.keyCount))
}

async function byKey(side: SidePlan, plan: DiffPlan, keys: readonly KeyTuple[]) {
  const q = rowsByKeyQuery(side, plan.keyCount, keys)
  return (await run(side, q)).map(toCanonRow)
}
