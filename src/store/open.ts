// Opens the store named by a URL (sqlite:PATH or postgres://...), runs pending migrations and returns
// the typed query layer. Every other module reaches the database through a Store.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type MigrationProvider } from 'kysely'
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

export function parseStoreUrl(url: string): { dialect: Dialect; target: string } {
  if (url.startsWith('sqlite:')) return { dialect: 'sqlite', target: url.slice('sqlite:'.length) || ':memory:' }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { dialect: 'postgres', target: url }
  throw new TandemError('TANDEM_ERR_STORE_URL', { url })
}

/** Open (creating on first use) and migrate the store. */
export async function openStore(url: string): Promise<Store> {
  const { dialect, target } = parseStoreUrl(url)
  let db: Kysely<Database>
  try {
    if (dialect === 'sqlite') {
      if (target !== ':memory:') mkdirSync(dirname(target), { recursive: true })
      const sqlite = new SQLite(target)
      // WAL keeps readers (dashboard, CLI) from blocking the controller; synchronous=NORMAL is durable
      // against process crashes (kill -9), which is what a restart must survive.
      sqlite.pragma('journal_mode = WAL')
      sqlite.pragma('synchronous = NORMAL')
      sqlite.pragma('busy_timeout = 5000')
      db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) })
    } else {
      const pool = new pg.Pool({
        connectionString: target,
        max: 10,
        // bigint columns hold epoch milliseconds: read them as numbers, not strings.
        types: { getTypeParser: (oid: number, format?: any) => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) },
      })
      db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    }
  } catch (error) {
    throw new TandemError('TANDEM_ERR_STORE_OPEN', { url, detail: (error as Error).message }, { cause: error })
  }
  await migrate(db, dialect, url)
  return { db, dialect, url, close: () => db.destroy() }
}

async function migrate(db: Kysely<Database>, dialect: Dialect, url: string): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) }
  const { error } = await new Migrator({ db, provider }).migrateToLatest()
  if (error !== undefined) {
    await db.destroy()
    throw new TandemError('TANDEM_ERR_STORE_OPEN', { url, detail: (error as Error).message }, { cause: error })
  }
}
