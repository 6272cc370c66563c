// The controller lease (SPEC 11): exactly one instance on a store runs the rollout controller. A row
// holds the holder, a fencing token and an expiry on the database's clock; the holder renews it, and
// once it expires (holder dead or frozen) another instance takes it over with the next token. Every
// controller write carries its fence and is refused in its own transaction when the token moved on.
// The embedded SQLite store serves a single process, which takes the lease at once on the same path.
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { performance } from 'node:perf_hooks'
import { sql, type Kysely, type RawBuilder } from 'kysely'
import { TandemError } from '../errors.js'
import type { Store } from './open.js'
import type { Database } from './tables.js'

/** What a controller write carries: who writes and under which lease term. */
export interface LeaseFence {
  readonly holder: string
  readonly token: number
}

export interface Lease {
  /** True while this instance holds the lease (false too once its term may have run out unrenewed). */
  readonly held: boolean
  /** This instance's holder id: `host/pid/random`. */
  readonly holder: string
  /** The fence of the last term this instance took (token 0 before any): pass it with controller writes. */
  readonly fence: LeaseFence
  /** Renew the lease, or take it when it is free or expired; resolves to whether it is held now. */
  tryAcquire(): Promise<boolean>
  /** Stop renewing and expire the term now, so another instance takes over at once. */
  release(): Promise<void>
}

export interface LeaseOptions {
  /** How long a term lasts unrenewed, in ms; read at every renewal (the config may be reloaded). */
  readonly ttl?: () => number
  readonly holder?: string
}

const NAME = 'controller'
export const DEFAULT_LEASE_TTL = 10_000

/** Now in epoch milliseconds on the database's clock, never the process's. */
export function databaseNow(store: Pick<Store, 'dialect'>): RawBuilder<number> {
  return store.dialect === 'postgres'
    ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
    : sql<number>`cast((julianday('now') - 2440587.5) * 86400000 as integer)`
}

export function controllerLease(store: Store, options: LeaseOptions = {}): Lease {
  const holder = options.holder ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`
  const ttlOf = () => Math.max(1, Math.round(options.ttl?.() ?? DEFAULT_LEASE_TTL))
  // SQLite is one process (the file lock refuses a second `tandem up`): a row left by a dead process
  // is taken over at once rather than after its expiry.
  const force = store.dialect !== 'postgres'
  const now = databaseNow(store)
  let token = 0
  let held = false
  /** Monotonic local deadline: the term surely ended by then unless renewed (a frozen process wakes past it). */
  let deadline = 0
  let renewing: NodeJS.Timeout | undefined
  let period = 0
  let released = false

  const stopRenewing = () => {
    clearInterval(renewing)
    renewing = undefined
  }
  const lost = () => {
    held = false
    stopRenewing()
  }
  const granted = (t: number, sentAt: number, ttl: number) => {
    token = t
    held = true
    // Measured from before the request was sent: the database's expiry is no earlier than this.
    deadline = sentAt + ttl
    // Renew every third of the term; a reload that changes the term changes the pace.
    const every = Math.max(1, Math.floor(ttl / 3))
    if (renewing === undefined || every !== period) {
      clearInterval(renewing)
      period = every
      renewing = setInterval(() => void renew().catch(() => undefined), every)
      renewing.unref()
    }
  }

  async function renew(): Promise<boolean> {
    if (token === 0) return false
    const ttl = ttlOf()
    const sentAt = performance.now()
    const res = await store.db
      .updateTable('controller_lease')
      .set({ expires_at: sql<number>`${now} + ${ttl}` })
      .where('name', '=', NAME)
      .where('holder', '=', holder)
      .where('token', '=', token)
      .executeTakeFirst()
    if (Number(res.numUpdatedRows) !== 1 || released) {
      lost()
      return false
    }
    granted(token, sentAt, ttl)
    return true
  }

  async function take(): Promise<boolean> {
    const ttl = ttlOf()
    const sentAt = performance.now()
    const db = store.db as Kysely<Database>
    const inserted = await db
      .insertInto('controller_lease')
      .values({ name: NAME, holder, token: 1, expires_at: sql<number>`${now} + ${ttl}`, acquired_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning('token')
      .executeTakeFirst()
    // Taking over bumps the token atomically, so the previous holder's fence no longer matches.
    let takeOver = db
      .updateTable('controller_lease')
      .set({ holder, token: sql<number>`token + 1`, expires_at: sql<number>`${now} + ${ttl}`, acquired_at: now })
      .where('name', '=', NAME)
    if (!force) takeOver = takeOver.where('expires_at', '<', now)
    const taken = inserted ?? (await takeOver.returning('token').executeTakeFirst())
    if (taken === undefined || released) return false
    granted(Number(taken.token), sentAt, ttl)
    return true
  }

  return {
    holder,
    get held() {
      return held && performance.now() < deadline
    },
    get fence() {
      return { holder, token }
    },
    async tryAcquire() {
      released = false
      if (held && performance.now() < deadline) return true
      if (held && (await renew())) return true
      return take()
    },
    async release() {
      released = true
      const wasHeld = held
      lost()
      if (!wasHeld || token === 0) return
      await store.db
        .updateTable('controller_lease')
        .set({ expires_at: sql<number>`${now} - 1` })
        .where('name', '=', NAME)
        .where('holder', '=', holder)
        .where('token', '=', token)
        .execute()
        .catch(() => undefined)
    },
  }
}

/**
 * Inside a write's transaction: refuse it with TANDEM_ERR_LEASE_LOST unless `fence` is the lease's
 * current term. On PostgreSQL the row is share-locked, so a take-over waits for this write to commit
 * (and a write after a take-over sees the new token): no decision is ever written by a stale holder.
 */
export async function assertFence(trx: Kysely<Database>, dialect: Store['dialect'], fence: LeaseFence): Promise<void> {
  const q = trx.selectFrom('controller_lease').select(['holder', 'token']).where('name', '=', NAME)
  const row = await (dialect === 'postgres' ? q.forShare() : q).executeTakeFirst()
  if (row === undefined || Number(row.token) !== fence.token || row.holder !== fence.holder) {
    const current = row?.token ?? 'none'
    throw new TandemError('TANDEM_ERR_LEASE_LOST', { holder: fence.holder, token: fence.token, current })
  }
}

export interface LeaseRow {
  readonly holder: string
  readonly token: number
  /** Epoch milliseconds on the database's clock. */
  readonly expiresAt: number
}

/** The lease row as stored, for status pages and tests; undefined before any instance took it. */
export async function readLease(store: Store): Promise<LeaseRow | undefined> {
  const row = await store.db.selectFrom('controller_lease').selectAll().where('name', '=', NAME).executeTakeFirst()
  if (row === undefined) return undefined
  return { holder: row.holder, token: Number(row.token), expiresAt: Number(row.expires_at) }
}
