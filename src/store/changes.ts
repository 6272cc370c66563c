// Tells every instance sharing a store that a system's rollout state (or the config) changed, so each
// gateway refreshes its routing table within a second. PostgreSQL uses LISTEN/NOTIFY, sent inside the
// writing transaction so it is delivered only on commit; the embedded SQLite store serves one process,
// where an in-process emitter is enough.
import { EventEmitter } from 'node:events'
import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import { parseStoreUrl, type Store } from './open.js'
import type { Database } from './tables.js'

export type ChangeKind = 'state' | 'config'
export type ChangeListener = (kind: ChangeKind, subject: string) => void

export interface ChangeFeed {
  on(listener: ChangeListener): () => void
  close(): Promise<void>
}

const local = new EventEmitter()
local.setMaxListeners(0)

/** The channel for `kind`; schema-qualified on PostgreSQL so programs sharing a database stay apart. */
export function channelFor(store: Store, kind: ChangeKind): string {
  const schema = store.dialect === 'postgres' ? parseStoreUrl(store.url).schema : undefined
  const base = kind === 'state' ? 'tandem_state' : 'tandem_config'
  return schema === undefined ? base : `${base}_${schema}`
}

/**
 * Announce a change. On PostgreSQL pass the transaction that made it (`db`), so listeners hear of it
 * only once it is committed; on SQLite call it after the commit.
 */
export async function announce(
  store: Store,
  kind: ChangeKind,
  subject: string,
  db: Kysely<Database> = store.db,
): Promise<void> {
  if (store.dialect === 'postgres') await sql`select pg_notify(${channelFor(store, kind)}, ${subject})`.execute(db)
  else local.emit(store.url, kind, subject)
}

/** Subscribe to changes announced by any instance on the same store. */
export async function openChangeFeed(store: Store): Promise<ChangeFeed> {
  const listeners = new Set<ChangeListener>()
  const fire: ChangeListener = (kind, subject) => {
    for (const l of listeners) l(kind, subject)
  }
  const on = (l: ChangeListener) => {
    listeners.add(l)
    return () => void listeners.delete(l)
  }
  if (store.dialect !== 'postgres') {
    local.on(store.url, fire)
    return { on, close: async () => void local.off(store.url, fire) }
  }

  const channels = { [channelFor(store, 'state')]: 'state', [channelFor(store, 'config')]: 'config' } as Record<
    string,
    ChangeKind
  >
  const client = new pg.Client({ connectionString: parseStoreUrl(store.url).target })
  // A dropped listener connection must not crash the instance; it stops hearing of changes and the
  // periodic state refresh of the instance still converges.
  client.on('error', () => undefined)
  client.on('notification', (n) => {
    const kind = channels[n.channel]
    if (kind !== undefined) fire(kind, n.payload ?? '')
  })
  await client.connect()
  for (const channel of Object.keys(channels)) await client.query(`LISTEN ${client.escapeIdentifier(channel)}`)
  return { on, close: () => client.end() }
}
