// SQLite side of a data diff (better-sqlite3). SQLite has no md5, so the canonical text and the row
// hash are deterministic user functions running canonical.ts: the same text and hash as the SQL dialects.
import Database from 'better-sqlite3'
import { canonicalText, rowHash } from './canonical.js'
import { kindSpec, parseKindSpec, sqliteFamily, type Kind } from './kinds.js'
import { quoteWith, type DataSource, type Dialect, type TableInfo } from './source.js'

const specCache = new Map<string, Kind[]>()
function kindsOf(specs: string): Kind[] {
  let kinds = specCache.get(specs)
  if (!kinds) {
    kinds = specs.split('|').map(parseKindSpec)
    specCache.set(specs, kinds)
  }
  return kinds
}

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  quote: (name, qualified = false) => quoteWith('"', name, qualified),
  placeholder: () => '?',
  canon: (col) => `tandem_canon('${kindSpec(col.kind)}', ${col.sql})`,
  rowHash: (cols) =>
    `tandem_row_hash('${cols.map((c) => kindSpec(c.kind)).join('|')}', ${cols.map((c) => c.sql).join(', ')})`,
  // SUM would raise "integer overflow" on 60-bit hashes; this aggregate sums in BigInt and returns text.
  sum: (expr) => `tandem_sum(${expr})`,
  keyExpr(col) {
    return `${this.canon(col)} COLLATE BINARY`
  },
  keyParam: (ph) => ph,
  intDiv: (a, b) => `((${a}) / (${b}))`,
  upsert(table, keys, columns) {
    const values = columns.map(() => '?').join(', ')
    const rest = columns.filter((c) => !keys.includes(c))
    const action =
      rest.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}`
    return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${values}) ON CONFLICT (${keys.join(', ')}) ${action}`
  },
}

/** Register the user functions the SQLite dialect's SQL calls. */
export function registerFunctions(db: Database.Database): void {
  db.function('tandem_canon', { deterministic: true, safeIntegers: true }, (spec: unknown, value: unknown) =>
    canonicalText(parseKindSpec(String(spec)), value),
  )
  db.function(
    'tandem_row_hash',
    { deterministic: true, varargs: true, safeIntegers: true },
    (specs: unknown, ...values: unknown[]) => {
      const kinds = kindsOf(String(specs))
      return rowHash(values.map((v, i) => canonicalText(kinds[i] ?? { family: 'text', precision: 6 }, v)))
    },
  )
  db.aggregate('tandem_sum', {
    start: 0n,
    safeIntegers: true,
    step: (total: bigint, next: unknown) =>
      next === null || next === undefined ? total : total + BigInt(next as bigint),
    result: (total: bigint) => total.toString(),
  })
}

export async function openSqlite(url: string, label: string, readonly: boolean): Promise<DataSource> {
  const path = url.replace(/^sqlite:(\/\/)?/i, '')
  const db = new Database(path, { fileMustExist: true, readonly })
  db.defaultSafeIntegers(true)
  registerFunctions(db)
  const query = async (sql: string, params: readonly unknown[] = []): Promise<unknown[][]> =>
    db
      .prepare(sql)
      .raw(true)
      .all(...(params as unknown[])) as unknown[][]
  return {
    dialect: sqliteDialect,
    label,
    features: { recordHash: false },
    query,
    execute: async (sql, params = []) => db.prepare(sql).run(...(params as unknown[])).changes,
    async describe(table: string): Promise<TableInfo | undefined> {
      const rows = db
        .prepare(`SELECT name, type, pk, "notnull" FROM pragma_table_info(?) ORDER BY cid`)
        .all(table) as Array<{
        name: string
        type: string
        pk: bigint
        notnull: bigint
      }>
      if (rows.length === 0) return undefined
      const pk = rows.filter((r) => Number(r.pk) > 0).sort((a, b) => Number(a.pk) - Number(b.pk))
      // An INTEGER PRIMARY KEY is the rowid (never NULL, always unique); any other primary key column
      // accepts NULLs (a historical SQLite quirk) unless declared NOT NULL.
      const rowid = pk.length === 1 && pk[0]?.type.toUpperCase() === 'INTEGER'
      return {
        columns: rows.map((r) => ({ name: r.name, type: r.type, family: sqliteFamily(r.type), precision: 6 })),
        primaryKey: pk.map((r) => r.name),
        primaryKeyEnforced: rowid || (pk.length > 0 && pk.every((r) => Number(r.notnull) === 1)),
      }
    },
    close: async () => {
      db.close()
    },
  }
}
