// Test tables for data diff: the same rows loaded into PostgreSQL, MariaDB and SQLite with each
// engine's own types, and a `to` copy with known injected differences.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { services, uniqueName } from '../support/services.js'

export type Engine = 'postgres' | 'mariadb' | 'sqlite'
export type Row = Record<string, unknown>

export interface TableSpec {
  readonly columns: readonly string[]
  readonly key: readonly string[]
  readonly ddl: Record<Engine, string>
  /** Convert a row's JS values into what the engine is given on insert. */
  readonly encode: (engine: Engine, row: Row) => unknown[]
}

export interface Expected {
  readonly op: '-' | '+' | '~'
  readonly key: string
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')
function utc(ms: number, micros: number): string {
  const d = new Date(ms)
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(micros, 6)}`
  )
}
function uuidOf(i: number): string {
  const h = (Math.imul(i, 2654435761) >>> 0).toString(16).padStart(8, '0')
  return `${h}-${pad(i % 10000, 4)}-4abc-9def-${(i * 7919).toString(16).padStart(12, '0').slice(-12)}`
}
function nameOf(i: number): string | null {
  switch (i % 10) {
    case 0:
      return null
    case 1:
      return ''
    case 2:
      return 'NULL'
    case 3:
      return `naïve ${i} 😀`
    case 4:
      return `e\u0301t\u00e9 ${i}`
    case 5:
      return `名前 ${i} 𝄞`
    default:
      return `name-${i}`
  }
}

export function accountRow(i: number): Row {
  return {
    id: i,
    name: nameOf(i),
    amount: ((i * 37) % 100000) / 100 === 0 ? '0.00' : (((i * 37) % 100000) / 100).toFixed(2),
    created_at: utc(Date.UTC(2024, 0, 1) + i * 1000, (i * 7919) % 1_000_000),
    active: i % 3 === 0,
    ratio: Math.round((i * 1000) / 7) / 1000,
    ext_id: uuidOf(i),
  }
}

export const accounts: TableSpec = {
  columns: ['id', 'name', 'amount', 'created_at', 'active', 'ratio', 'ext_id'],
  key: ['id'],
  ddl: {
    postgres:
      `(id integer PRIMARY KEY, name text, amount numeric(12,2), created_at timestamptz(6), active boolean, ` +
      `ratio double precision, ext_id uuid)`,
    mariadb:
      `(id INT PRIMARY KEY, name VARCHAR(200), amount DECIMAL(12,4), created_at DATETIME(6), active TINYINT(1), ` +
      `ratio DOUBLE, ext_id CHAR(36)) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    sqlite:
      `(id INTEGER PRIMARY KEY, name TEXT, amount DECIMAL(12,4), created_at TIMESTAMP, active BOOLEAN, ` +
      `ratio REAL, ext_id UUID)`,
  },
  encode(engine, r) {
    const ts = String(r.created_at)
    switch (engine) {
      case 'postgres':
        return [r.id, r.name, r.amount, `${ts}+00`, r.active, r.ratio, r.ext_id]
      case 'mariadb':
        return [r.id, r.name, r.amount, ts, r.active ? 1 : 0, r.ratio, String(r.ext_id).toUpperCase()]
      default:
        return [r.id, r.name, r.amount, `${ts.replace(' ', 'T')}Z`, r.active ? 1 : 0, r.ratio, r.ext_id]
    }
  },
}

/** Rows 1..n, and the `to` copy with exactly the differences listed in `expected`. */
export function accountsCase(n: number): { from: Row[]; to: Row[]; expected: Expected[] } {
  const from = Array.from({ length: n }, (_, i) => accountRow(i + 1))
  const to = from.map((r) => ({ ...r }))
  const byId = new Map(to.map((r) => [r.id as number, r]))
  const set = (id: number, patch: Row): void => void Object.assign(byId.get(id) as Row, patch)
  set(10, { name: '' }) // NULL -> ''
  set(11, { name: 'NULL' }) // '' -> 'NULL'
  set(12, { name: null }) // 'NULL' -> NULL
  set(13, { name: 'naïve 13 😁' }) // non-BMP character
  set(14, { name: 'été 14' }) // combining marks -> precomposed
  set(20, { amount: '7.41' }) // 7.40 -> 7.41
  // 1 microsecond
  set(21, { created_at: String(byId.get(21)?.created_at).replace(/\d$/, (d) => String((Number(d) + 1) % 10)) })
  set(22, { active: !(byId.get(22)?.active as boolean) })
  set(23, { ext_id: uuidOf(99_999) })
  set(24, { ratio: (byId.get(24)?.ratio as number) + 0.001 })
  const deleted = new Set([25, 26])
  const kept = to.filter((r) => !deleted.has(r.id as number))
  kept.push(accountRow(n + 1), accountRow(n + 5))
  const expected: Expected[] = [
    ...[10, 11, 12, 13, 14, 20, 21, 22, 23, 24].map((id) => ({ op: '~' as const, key: String(id) })),
    { op: '-', key: '25' },
    { op: '-', key: '26' },
    { op: '+', key: String(n + 1) },
    { op: '+', key: String(n + 5) },
  ]
  return { from, to: kept, expected }
}

const TENANTS = ['acme', 'Acme', 'äpfel', '😀corp', 'zeta', 'Zeta b', 'e\u0301cole']

export const items: TableSpec = {
  columns: ['tenant', 'sku', 'qty', 'note'],
  key: ['tenant', 'sku'],
  ddl: {
    postgres: `(tenant text, sku varchar(60) UNIQUE, qty bigint, note text, PRIMARY KEY (tenant, sku))`,
    mariadb:
      `(tenant VARCHAR(60), sku VARCHAR(60) UNIQUE, qty BIGINT, note TEXT, PRIMARY KEY (tenant, sku)) ` +
      `CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    sqlite: `(tenant TEXT, sku TEXT UNIQUE, qty INTEGER, note TEXT, PRIMARY KEY (tenant, sku))`,
  },
  encode: (_engine, r) => [r.tenant, r.sku, r.qty, r.note],
}

export function itemsCase(n: number): { from: Row[]; to: Row[]; expected: Expected[]; expectedBySku: Expected[] } {
  const from: Row[] = []
  for (let j = 0; j < n; j++) {
    const tenant = TENANTS[j % TENANTS.length] as string
    from.push({
      tenant,
      sku: `${['s', 'S', 'ß', '𝒮'][j % 4]}-${j}`,
      qty: j * 3 - 50,
      note: j % 5 === 0 ? null : j % 5 === 1 ? '' : `n ${j}`,
    })
  }
  const to = from.map((r) => ({ ...r })).filter((r) => r.sku !== 'S-1' && r.sku !== '𝒮-7')
  const find = (sku: string): Row => to.find((r) => r.sku === sku) as Row
  find('s-4').qty = 1_000_000
  find('s-8').note = 'changed'
  find('ß-2').note = '' // n 2 -> ''
  find('s-0').note = 'NULL' // NULL -> 'NULL'
  to.push(
    { tenant: 'acme ', sku: 'new-1', qty: 1, note: 'trailing space tenant' },
    { tenant: '😀corp', sku: 'new-2', qty: 2, note: null },
  )
  const pick = (skus: string[], op: Expected['op']): Array<{ r: Row; op: Expected['op'] }> =>
    skus.map((sku) => ({ r: [...from, ...to].find((x) => x.sku === sku) as Row, op }))
  const all = [
    ...pick(['S-1', '𝒮-7'], '-'),
    ...pick(['new-1', 'new-2'], '+'),
    ...pick(['s-4', 's-8', 'ß-2', 's-0'], '~'),
  ]
  return {
    from,
    to,
    expected: all.map(({ r, op }) => ({ op, key: `${String(r.tenant)}|${String(r.sku)}` })),
    expectedBySku: all.map(({ r, op }) => ({ op, key: String(r.sku) })),
  }
}

export interface LoadedTable {
  readonly url: string
  readonly table: string
  drop(): Promise<void>
}

/** Create a uniquely named table in the engine and insert the rows. */
export async function load(engine: Engine, spec: TableSpec, rows: readonly Row[], prefix = 'dd'): Promise<LoadedTable> {
  const table = uniqueName(prefix).toLowerCase()
  const cols = spec.columns.join(', ')
  const values = rows.map((r) => spec.encode(engine, r))
  if (engine === 'postgres') {
    const c = new pg.Client({ connectionString: services.postgres })
    await c.connect()
    await c.query(`CREATE TABLE ${table} ${spec.ddl.postgres}`)
    for (let i = 0; i < values.length; i += 1000) {
      const chunk = values.slice(i, i + 1000)
      const w = spec.columns.length
      const tuples = chunk.map((_, r) => `(${spec.columns.map((__, k) => `$${r * w + k + 1}`).join(', ')})`)
      await c.query(`INSERT INTO ${table} (${cols}) VALUES ${tuples.join(', ')}`, chunk.flat())
    }
    await c.end()
    return {
      url: services.postgres,
      table,
      drop: async () => {
        await runPg(`DROP TABLE IF EXISTS ${table}`)
      },
    }
  }
  if (engine === 'mariadb') {
    const c = await mysql.createConnection({ uri: services.mariadb, charset: 'utf8mb4' })
    await c.query(`CREATE TABLE ${table} ${spec.ddl.mariadb}`)
    for (let i = 0; i < values.length; i += 1000)
      await c.query(`INSERT INTO ${table} (${cols}) VALUES ?`, [values.slice(i, i + 1000)])
    await c.end()
    return {
      url: services.mariadb,
      table,
      drop: async () => {
        const d = await mysql.createConnection({ uri: services.mariadb })
        await d.query(`DROP TABLE IF EXISTS ${table}`)
        await d.end()
      },
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'tandem-data-'))
  const path = join(dir, 'db.sqlite')
  const db = new Database(path)
  db.exec(`CREATE TABLE ${table} ${spec.ddl.sqlite}`)
  const insert = db.prepare(`INSERT INTO ${table} (${cols}) VALUES (${spec.columns.map(() => '?').join(', ')})`)
  db.transaction(() => {
    for (const v of values) insert.run(...v)
  })()
  db.close()
  return { url: `sqlite:${path}`, table, drop: async () => rmSync(dir, { recursive: true, force: true }) }
}

export async function runPg(sql: string, params: unknown[] = []): Promise<unknown[]> {
  const c = new pg.Client({ connectionString: services.postgres })
  await c.connect()
  try {
    return (await c.query(sql, params)).rows
  } finally {
    await c.end()
  }
}

export async function runMaria(sql: string, params: unknown[] = []): Promise<unknown> {
  const c = await mysql.createConnection({ uri: services.mariadb, charset: 'utf8mb4' })
  try {
    return (await c.query(sql, params))[0]
  } finally {
    await c.end()
  }
}
