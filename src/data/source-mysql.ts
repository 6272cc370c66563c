// MySQL and MariaDB side of a data diff (mysql2): session in UTC, table description from
// information_schema, and SQL rendering the same canonical texts and md5 row hashes as PostgreSQL.
import mysql from 'mysql2/promise'
import { mysqlFamily, timestampLength } from './kinds.js'
import { quoteWith, type ColumnRef, type DataSource, type Dialect, type TableInfo } from './source.js'

/** Strip trailing fractional zeros (and a bare point) from decimal text, as PostgreSQL's trim_scale. */
function trimScale(s: string): string {
  return `IF(LOCATE('.', ${s}) > 0, TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM ${s})), ${s})`
}

export const mysqlDialect: Dialect = {
  name: 'mysql',
  quote: (name, qualified = false) => quoteWith('`', name, qualified),
  placeholder: () => '?',
  canon(col: ColumnRef): string {
    const c = col.sql
    switch (col.kind.family) {
      case 'int':
        return `CAST(${c} AS CHAR)`
      case 'decimal':
        return trimScale(`CAST(${c} AS CHAR)`)
      case 'float':
        return trimScale(`CAST(CAST(${c} AS DECIMAL(65,6)) AS CHAR)`)
      case 'bool':
        return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} <> 0 THEN '1' ELSE '0' END`
      case 'uuid':
        return `LOWER(CAST(${c} AS CHAR))`
      case 'binary':
        return `LOWER(HEX(${c}))`
      case 'date':
        return `DATE_FORMAT(${c}, '%Y-%m-%d')`
      case 'timestamp':
        return `SUBSTRING(DATE_FORMAT(${c}, '%Y-%m-%d %H:%i:%s.%f'), 1, ${timestampLength(col.kind.precision)})`
      default:
        return `CONVERT(${c} USING utf8mb4)`
    }
  },
  rowHash(cols) {
    const parts = cols.map((col) => {
      const canon = this.canon(col)
      return `COALESCE(CONCAT(CHAR_LENGTH(${canon}), ':', ${canon}), 'N')`
    })
    return `CAST(CONV(SUBSTRING(MD5(CONCAT(${parts.join(', ')})), 1, 15), 16, 10) AS UNSIGNED)`
  },
  sum: (expr) => `SUM(${expr})`,
  // BINARY compares bytes without PAD SPACE, which is the order PostgreSQL's "C" collation and SQLite use.
  keyExpr(col) {
    return `CAST(${this.canon(col)} AS BINARY)`
  },
  keyParam: (ph) => `CAST(${ph} AS BINARY)`,
  intDiv: (a, b) => `((${a}) DIV (${b}))`,
  upsert(table, keys, columns) {
    const values = columns.map(() => '?').join(', ')
    const rest = columns.filter((c) => !keys.includes(c))
    const update = (rest.length === 0 ? [keys[0] ?? ''] : rest).map((c) => `${c} = VALUES(${c})`).join(', ')
    return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${values}) ON DUPLICATE KEY UPDATE ${update}`
  },
}

export async function openMysql(url: string, label: string): Promise<DataSource> {
  const conn = await mysql.createConnection({
    uri: url.replace(/^mariadb:/i, 'mysql:'),
    charset: 'utf8mb4',
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
  })
  conn.on('error', () => {})
  await conn.query(`SET time_zone = '+00:00'`)
  const query = async (sql: string, params: readonly unknown[] = []): Promise<unknown[][]> => {
    const [rows] = await conn.query({ sql, rowsAsArray: true }, params as unknown[])
    return rows as unknown[][]
  }
  return {
    dialect: mysqlDialect,
    label,
    features: { recordHash: false },
    query,
    async execute(sql, params = []) {
      const [result] = await conn.query(sql, params as unknown[])
      return (result as { affectedRows?: number }).affectedRows ?? 0
    },
    async describe(table: string): Promise<TableInfo | undefined> {
      const parts = table.split('.')
      const name = parts.pop() ?? table
      const schema = parts[0] ?? null
      const cols = await query(
        `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, DATETIME_PRECISION FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
        [schema, name],
      )
      if (cols.length === 0) return undefined
      const pk = await query(
        `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' \
ORDER BY ORDINAL_POSITION`,
        [schema, name],
      )
      return {
        columns: cols.map(([colName, dataType, columnType, precision]) => {
          const family = mysqlFamily(String(dataType), String(columnType))
          return {
            name: String(colName),
            type: String(columnType),
            family,
            precision: precision === null ? 6 : Number(precision),
          }
        }),
        primaryKey: pk.map(([colName]) => String(colName)),
        primaryKeyEnforced: true,
      }
    },
    close: () => conn.end(),
  }
}
