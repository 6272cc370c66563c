// A database on one side of a data diff: the connection, table description and the dialect that
// renders canonical values, row hashes and key comparisons in that database's SQL. The adapters
// (source-*.ts) implement it; open-source.ts picks one, so no adapter imports its opener.
import type { Family, Kind } from './kinds.js'

export interface ColumnInfo {
  readonly name: string
  /** The database's own type name (udt_name, COLUMN_TYPE or SQLite declared type). */
  readonly type: string
  readonly family: Family
  /** Fractional-second digits for timestamps; 6 when not declared. */
  readonly precision: number
}

export interface TableInfo {
  readonly columns: readonly ColumnInfo[]
  readonly primaryKey: readonly string[]
  /**
   * The database rejects NULL and duplicate primary-key values (PostgreSQL, MySQL; in SQLite only an
   * INTEGER PRIMARY KEY or a key whose columns are all NOT NULL, since SQLite allows NULLs in others).
   */
  readonly primaryKeyEnforced: boolean
}

/** One column as a side queries it: its quoted name, what the database says it is and how it is compared. */
export interface ColumnRef {
  readonly sql: string
  readonly info: ColumnInfo
  readonly kind: Kind
}

export interface Dialect {
  readonly name: 'postgres' | 'mysql' | 'sqlite'
  /** Quote an identifier; `schema.table` is quoted part by part. */
  quote(name: string, qualified?: boolean): string
  /** The placeholder for the 1-based parameter `index`. */
  placeholder(index: number): string
  /** SQL for the canonical text of a column (NULL stays NULL), identical across dialects for equal values. */
  canon(col: ColumnRef): string
  /** SQL for the portable 60-bit row hash over the canonical texts of `cols`. */
  rowHash(cols: readonly ColumnRef[]): string
  /** SQL aggregate that sums row hashes without overflow. */
  sum(expr: string): string
  /** SQL for a non-integer key column compared in binary order of its canonical text. */
  keyExpr(col: ColumnRef): string
  /** SQL for a placeholder compared against keyExpr(col). */
  keyParam(placeholder: string, col: ColumnRef): string
  /** SQL integer division (truncating). */
  intDiv(a: string, b: string): string
  /** SQL that inserts a row or updates it when the key exists; columns are already quoted. */
  upsert(table: string, keys: readonly string[], columns: readonly string[]): string
}

export interface DataSource {
  readonly dialect: Dialect
  /** The URL with any password removed, for messages. */
  readonly label: string
  /** Run a query; rows come back as arrays in select order. */
  query(sql: string, params?: readonly unknown[]): Promise<unknown[][]>
  /** Run a statement; returns the number of affected rows. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>
  /** Columns and primary key of a table, or undefined when it does not exist. */
  describe(table: string): Promise<TableInfo | undefined>
  /** Server-specific capabilities the diff may use (e.g. PostgreSQL's hash_record_extended). */
  readonly features: { readonly recordHash: boolean }
  close(): Promise<void>
}

/** Split `schema.table` for quoting; a bare name has no schema. */
export function splitQualified(name: string): string[] {
  return name.split('.')
}

export function quoteWith(q: string, name: string, qualified: boolean): string {
  const parts = qualified ? splitQualified(name) : [name]
  return parts.map((p) => `${q}${p.split(q).join(q + q)}${q}`).join('.')
}
