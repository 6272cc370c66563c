// PostgreSQL side of a data diff: pg client in UTC, table description from the catalog, and the SQL
// that renders canonical texts (trim_scale, to_char ... AT TIME ZONE 'UTC') and md5-based row hashes.
import pg from 'pg'
import { postgresFamily, timestampLength } from './kinds.js'
import { quoteWith, type ColumnRef, type DataSource, type Dialect, type TableInfo } from './source.js'

const TS_FORMAT = `'YYYY-MM-DD HH24:MI:SS.US'`

export const postgresDialect: Dialect = {
  name: 'postgres',
  quote: (name, qualified = false) => quoteWith('"', name, qualified),
  placeholder: (i) => `$${i}`,
  canon(col: ColumnRef): string {
    const c = col.sql
    const t = col.info.type
    switch (col.kind.family) {
      case 'int':
        return `(${c})::text`
      case 'decimal':
        return `trim_scale((${c})::numeric)::text`
      case 'float':
        return `trim_scale(round((${c})::numeric, 6))::text`
      case 'bool':
        return t === 'bool'
          ? `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} THEN '1' ELSE '0' END`
          : `CASE WHEN ${c} IS NULL THEN NULL WHEN (${c})::numeric <> 0 THEN '1' ELSE '0' END`
      case 'uuid':
        return `lower((${c})::text)`
      case 'binary':
        return t === 'bytea' ? `encode(${c}, 'hex')` : `encode(convert_to((${c})::text, 'UTF8'), 'hex')`
      case 'date':
        return t === 'date' || t.startsWith('timestamp')
          ? `to_char(${c}, 'YYYY-MM-DD')`
          : `to_char((${c})::date, 'YYYY-MM-DD')`
      case 'timestamp': {
        const utc =
          t === 'timestamptz'
            ? `(${c}) AT TIME ZONE 'UTC'`
            : t === 'timestamp' || t === 'date'
              ? `(${c})::timestamp`
              : `(${c})::timestamptz AT TIME ZONE 'UTC'`
        return `substr(to_char(${utc}, ${TS_FORMAT}), 1, ${timestampLength(col.kind.precision)})`
      }
      default:
        return `(${c})::text`
    }
  },
  rowHash(cols) {
    const parts = cols.map((col) => {
      const canon = this.canon(col)
      return `coalesce(char_length(${canon})::text || ':' || ${canon}, 'N')`
    })
    return `('x' || substr(md5(${parts.join(' || ')}), 1, 15))::bit(60)::bigint`
  },
  sum: (expr) => `sum(${expr})`,
  keyExpr(col) {
    if (col.kind.family === 'uuid' && col.info.type === 'uuid') return col.sql
    if (col.kind.family === 'text' && ['text', 'varchar', 'bpchar'].includes(col.info.type))
      return `${col.sql} COLLATE "C"`
    return `(${this.canon(col)}) COLLATE "C"`
  },
  keyParam: (ph, col) =>
    col.kind.family === 'uuid' && col.info.type === 'uuid' ? `${ph}::uuid` : `${ph}::text COLLATE "C"`,
  intDiv: (a, b) => `((${a}) / (${b}))`,
  upsert(table, keys, columns) {
    const values = columns.map((_, i) => `$${i + 1}`).join(', ')
    const rest = columns.filter((c) => !keys.includes(c))
    const action =
      rest.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`
    return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${values}) ON CONFLICT (${keys.join(', ')}) ${action}`
  },
}

/** The fast row hash when both sides are PostgreSQL with identical column types: the types' own hash functions. */
export function postgresRecordHash(cols: readonly ColumnRef[]): string {
  return `hash_record_extended(ROW(${cols.map((c) => c.sql).join(', ')}), 0)`
}

export async function openPostgres(url: string, label: string): Promise<DataSource> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  // A swallowed 'error' event would otherwise crash the process when the server goes away mid-diff.
  client.on('error', () => {})
  await client.query(`SET TimeZone = 'UTC'`)
  const version = Number(
    (await client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]?.server_version_num ?? 0,
  )
  const query = async (sql: string, params: readonly unknown[] = []): Promise<unknown[][]> =>
    (await client.query({ text: sql, values: params as unknown[], rowMode: 'array' })).rows as unknown[][]
  return {
    dialect: postgresDialect,
    label,
    features: { recordHash: version >= 140000 },
    query,
    execute: async (sql, params = []) => (await client.query(sql, params as unknown[])).rowCount ?? 0,
    async describe(table: string): Promise<TableInfo | undefined> {
      const rel = postgresDialect.quote(table, true)
      const exists = await query('SELECT to_regclass($1) IS NOT NULL', [rel])
      if (exists[0]?.[0] !== true) return undefined
      const cols = await query(
        `SELECT a.attname, t.typname, a.atttypmod FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [rel],
      )
      const pk = await query(
        `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = to_regclass($1) AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
        [rel],
      )
      return {
        columns: cols.map(([name, type, typmod]) => {
          const t = String(type)
          const precision = t.startsWith('timestamp') && Number(typmod) >= 0 ? Number(typmod) : 6
          return { name: String(name), type: t, family: postgresFamily(t), precision }
        }),
        primaryKey: pk.map(([name]) => String(name)),
        primaryKeyEnforced: true,
      }
    },
    close: () => client.end(),
  }
}
