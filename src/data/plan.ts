// Resolve what a data diff compares: both tables, key and value columns (with renames), the kind of
// each column pair, and whether the fast same-engine row hash may be used.
import { TandemError } from '../errors.js'
import { resolveKind, type Kind } from './kinds.js'
import type { ColumnInfo, ColumnRef, DataSource, TableInfo } from './source.js'

export interface TableSelection {
  readonly table: string
  readonly toTable?: string
  /** Key columns (from-side names); default: the from table's primary key. */
  readonly key?: readonly string[]
  /** Compared non-key columns (from-side names); default: every non-key column of the from table. */
  readonly columns?: readonly string[]
  /** Renamed columns: from-side name -> to-side name. */
  readonly map?: Readonly<Record<string, string>>
  /** SQL condition applied verbatim on both sides. */
  readonly where?: string
}

export interface SidePlan {
  readonly source: DataSource
  /** Quoted (schema-qualified) table name. */
  readonly table: string
  /** Keys first, then compared columns, in the same order on both sides. */
  readonly cols: readonly ColumnRef[]
  readonly where?: string
  /**
   * The key is this table's enforced primary key and its canonical texts are as distinct as its values,
   * so no key can be NULL or duplicated and the key check is skipped.
   */
  readonly keyUnique: boolean
}

export interface DiffPlan {
  readonly table: string
  readonly from: SidePlan
  readonly to: SidePlan
  /** From-side column names, keys first. */
  readonly names: readonly string[]
  readonly keyCount: number
  readonly kinds: readonly Kind[]
  /** Both sides are PostgreSQL 14+ with identical column types: hash_record_extended can be used. */
  readonly sameEngine: boolean
}

// PostgreSQL types whose extended hash function agrees with their equality (json has none).
const HASHABLE = new Set([
  'int2',
  'int4',
  'int8',
  'numeric',
  'float4',
  'float8',
  'bool',
  'text',
  'varchar',
  'bpchar',
  'uuid',
  'timestamp',
  'timestamptz',
  'date',
  'bytea',
  'jsonb',
])

function findColumn(info: TableInfo, name: string): ColumnInfo | undefined {
  return (
    info.columns.find((c) => c.name === name) ?? info.columns.find((c) => c.name.toLowerCase() === name.toLowerCase())
  )
}

/**
 * Whether the database itself guarantees that the key columns hold no NULL and no duplicate canonical
 * key: they are exactly the enforced primary key, and no key column's canonical text merges values
 * (floats are rounded, timestamps may be truncated, a widened or narrowed family may collide).
 */
function keyIsUnique(info: TableInfo, keys: readonly ColumnRef[]): boolean {
  const pk = new Set(info.primaryKey.map((n) => n.toLowerCase()))
  if (!info.primaryKeyEnforced || pk.size !== keys.length || !keys.every((k) => pk.has(k.info.name.toLowerCase())))
    return false
  return keys.every(
    (k) =>
      k.kind.family === k.info.family &&
      k.kind.family !== 'float' &&
      (k.kind.family !== 'timestamp' || k.kind.precision >= k.info.precision),
  )
}

async function describeOrFail(source: DataSource, table: string): Promise<TableInfo> {
  let info: TableInfo | undefined
  try {
    info = await source.describe(table)
  } catch (error) {
    throw new TandemError(
      'TANDEM_ERR_DATA_QUERY',
      { url: source.label, detail: (error as Error).message },
      { cause: error },
    )
  }
  if (!info) throw new TandemError('TANDEM_ERR_DATA_TABLE_MISSING', { table, url: source.label })
  return info
}

export async function planDiff(from: DataSource, to: DataSource, sel: TableSelection): Promise<DiffPlan> {
  const toTable = sel.toTable ?? sel.table
  const [fromInfo, toInfo] = await Promise.all([describeOrFail(from, sel.table), describeOrFail(to, toTable)])
  const keyNames = sel.key && sel.key.length > 0 ? [...sel.key] : [...fromInfo.primaryKey]
  if (keyNames.length === 0) throw new TandemError('TANDEM_ERR_DATA_NO_KEY', { table: sel.table, url: from.label })
  const explicit = sel.columns !== undefined && sel.columns.length > 0
  const valueNames = explicit
    ? (sel.columns ?? []).filter((c) => !keyNames.includes(c))
    : fromInfo.columns.map((c) => c.name).filter((c) => !keyNames.some((k) => k.toLowerCase() === c.toLowerCase()))
  const names = [...keyNames, ...valueNames]
  const fromCols: ColumnRef[] = []
  const toCols: ColumnRef[] = []
  const kinds: Kind[] = []
  for (const name of names) {
    const a = findColumn(fromInfo, name)
    if (!a) throw new TandemError('TANDEM_ERR_DATA_COLUMN_MISSING', { column: name, table: sel.table, url: from.label })
    const toName = sel.map?.[name] ?? sel.map?.[a.name] ?? a.name
    const b = findColumn(toInfo, toName)
    if (!b) throw new TandemError('TANDEM_ERR_DATA_COLUMN_MISSING', { column: toName, table: toTable, url: to.label })
    const kind = resolveKind(a, b)
    kinds.push(kind)
    fromCols.push({ sql: from.dialect.quote(a.name), info: a, kind })
    toCols.push({ sql: to.dialect.quote(b.name), info: b, kind })
  }
  const sameEngine =
    from.features.recordHash &&
    to.features.recordHash &&
    fromCols.every((c, i) => {
      const other = toCols[i]
      return (
        other !== undefined &&
        HASHABLE.has(c.info.type) &&
        c.info.type === other.info.type &&
        c.info.precision === other.info.precision
      )
    })
  return {
    table: sel.table,
    from: {
      source: from,
      table: from.dialect.quote(sel.table, true),
      cols: fromCols,
      where: sel.where,
      keyUnique: keyIsUnique(fromInfo, fromCols.slice(0, keyNames.length)),
    },
    to: {
      source: to,
      table: to.dialect.quote(toTable, true),
      cols: toCols,
      where: sel.where,
      keyUnique: keyIsUnique(toInfo, toCols.slice(0, keyNames.length)),
    },
    names: fromCols.map((c) => c.info.name),
    keyCount: keyNames.length,
    kinds,
    sameEngine,
  }
}
