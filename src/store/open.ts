// Opens the store named by a URL (sqlite:PATH or postgres://...), runs pending migrations and returns
// the typed query layer. Only the store modules beside it use `db`; every other module calls their
// functions (system-state, verdicts, metric-windows, comparisons, checklist, audit, program-state).
import { mkdirSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely'
import pg from 'pg'
import { TandemError } from '../errors.js'
import { migrations, type Dialect } from './migrations.js'
import type { Database } from './tables.js'

export interface Store {
  readonly db: Kysely<Database>
  readonly dialect: Dialect
  readonly url: string
  close(): Promise<void>
}

/**
 * `sqlite:PATH`, or `postgres://...` with an optional `?schema=NAME` that keeps Tandem's tables in their
 * own schema (created if missing), so several programs or test runs can share one database.
 */
export function parseStoreUrl(url: string): { dialect: Dialect; target: string; schema?: string } {
  if (url.startsWith('sqlite:')) return { dialect: 'sqlite', target: url.slice('sqlite:'.length) || ':memory:' }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const parsed = new URL(url)
    const schema = parsed.searchParams.get('schema') ?? undefined
    if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema))
      throw new TandemError('TANDEM_ERR_STORE_URL', { url })
    parsed.searchParams.delete('schema')
    return schema === undefined
      ? { dialect: 'postgres', target: parsed.toString() }
      : { dialect: 'postgres', target: parsed.toString(), schema }
  }
  throw new TandemError('TANDEM_ERR_STORE_URL', { url })
}

/** The SQLite file of a store URL, absolute; undefined for PostgreSQL and `:memory:`. */
export function sqliteFile(url: string): string | undefined {
  const { dialect, target } = parseStoreUrl(url)
  return dialect === 'sqlite' && target !== ':memory:' ? resolve(target) : undefined
}

const DAMAGED = new Set([
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_CORRUPT_INDEX',
  'SQLITE_CORRUPT_SEQUENCE',
  'SQLITE_CORRUPT_VTAB',
])

/** TANDEM_ERR_STORE_CORRUPT naming the file when `error` is SQLite reporting a damaged file; else undefined. */
export function storeError(store: Pick<Store, 'url'>, error: unknown): TandemError | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string' || !DAMAGED.has(code)) return undefined
  return new TandemError(
    'TANDEM_ERR_STORE_CORRUPT',
    { file: sqliteFile(store.url) ?? store.url, detail: (error as Error).message },
    { cause: error },
  )
}

/**
 * Open a SQLite file as a store. A missing file is a fresh store; an existing file must be a sound
 * database: a 0-byte file (truncated, or a failed copy) would otherwise be silently initialised as
 * fresh, serving every promoted system as `pending`, so it is refused, as is a damaged one. The file
 * is never rewritten on refusal.
 */
function openSqlite(url: string, target: string): SQLite.Database {
  if (target === ':memory:') return new SQLite(target)
  const file = resolve(target)
  const size = (() => {
    try {
      return statSync(file).size
    } catch {
      return undefined
    }
  })()
  if (size === 0) throw new TandemError('TANDEM_ERR_STORE_EMPTY', { file })
  mkdirSync(dirname(file), { recursive: true })
  const sqlite = new SQLite(file)
  try {
    // quick_check reads every page (not the index cross-checks of integrity_check): corruption in the
    // middle of the file is found now, with the file named, not as a failing query later.
    if (size !== undefined) {
      const problems = sqlite.pragma('quick_check(5)', { simple: false }) as Array<{ quick_check: string }>
      const found = problems.map((p) => p.quick_check).filter((p) => p !== 'ok')
      if (found.length > 0) throw new TandemError('TANDEM_ERR_STORE_CORRUPT', { file, detail: found.join('; ') })
    }
    // WAL keeps readers (dashboard, CLI) from blocking the controller; synchronous=NORMAL is durable
    // against process crashes (kill -9), which is what a restart must survive.
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = NORMAL')
    sqlite.pragma('busy_timeout = 5000')
    return sqlite
  } catch (error) {
    sqlite.close()
    throw storeError({ url }, error) ?? error
  }
}

/** Open (creating on first use) and migrate the store. */
export async function openStore(url: string): Promise<Store> {
  const { dialect, target, schema } = parseStoreUrl(url)
  let db: Kysely<Database>
  try {
    if (dialect === 'sqlite') {
      db = new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqlite(url, target) }) })
    } else {
      if (schema !== undefined) {
        const client = new pg.Client({ connectionString: target })
        await client.connect()
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).finally(() => client.end())
      }
      const pool = new pg.Pool({
        connectionString: target,
        max: 10,
        ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
        // bigint columns hold epoch milliseconds: read them as numbers, not strings.
        types: {
          getTypeParser: (oid: number, format?: 'text' | 'binary') =>
            oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
        },
      })
      db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    }
  } catch (error) {
    if (error instanceof TandemError) throw error
    throw new TandemError('TANDEM_ERR_STORE_OPEN', { url, detail: (error as Error).message }, { cause: error })
  }
  await migrate(db, url, dialect)
  return { db, dialect, url, close: () => db.destroy() }
}

/**
 * Run pending migrations in name order, each in its own transaction, recorded in tandem_migrations.
 * Kysely's Migrator introspects every schema of the database, which races with other programs (or
 * test runs) creating and dropping schemas beside ours; this runner looks only at its own table.
 * On PostgreSQL a transaction-scoped advisory lock keeps two instances from migrating at once.
 */
async function migrate(db: Kysely<Database>, url: string, dialect: Dialect): Promise<void> {
  // Only the bookkeeping table is typed here; the migrations themselves use the schema builder.
  const own = db as unknown as Kysely<{ tandem_migrations: { name: string; at: number } }>
  try {
    await own.schema
      .createTable('tandem_migrations')
      .ifNotExists()
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('at', dialect === 'sqlite' ? 'integer' : 'bigint', (c) => c.notNull())
      .execute()
    for (const [name, migration] of Object.entries(migrations(dialect)).sort(([a], [b]) => a.localeCompare(b))) {
      await own.transaction().execute(async (trx) => {
        if (dialect === 'postgres')
          await sql`select pg_advisory_xact_lock(7391823, hashtext(current_schema()))`.execute(trx)
        const done = await trx
          .selectFrom('tandem_migrations')
          .select('name')
          .where('name', '=', name)
          .executeTakeFirst()
        if (done !== undefined) return
        await migration.up(trx)
        await trx.insertInto('tandem_migrations').values({ name, at: Date.now() }).execute()
      })
    }
  } catch (error) {
    await db.destroy()
    const damaged = storeError({ url }, error)
    if (damaged !== undefined) throw damaged
    throw new TandemError('TANDEM_ERR_STORE_OPEN', { url, detail: (error as Error).message }, { cause: error })
  }
}
