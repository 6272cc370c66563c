// The controller lease: with several gateway instances on one PostgreSQL store, exactly one runs the
// rollout controller. A session advisory lock is held on a dedicated connection; if the holder dies
// its connection closes, the lock is released and another instance takes it on its next attempt.
// The embedded SQLite store serves a single process, which always holds the lease.
import pg from 'pg'
import { parseStoreUrl, type Store } from './open.js'

export interface Lease {
  /** True while this instance holds the lease. */
  readonly held: boolean
  /** Try once to take the lease; resolves to whether it is held now. */
  tryAcquire(): Promise<boolean>
  release(): Promise<void>
}

/** A 64-bit lock key derived from the schema, so programs sharing one database have separate leases. */
function lockKey(schema: string | undefined): bigint {
  let h = 0xcbf29ce484222325n
  for (const byte of Buffer.from(`tandem-controller:${schema ?? 'public'}`)) {
    h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n)
  }
  return BigInt.asIntN(64, h)
}

export function controllerLease(store: Store): Lease {
  if (store.dialect !== 'postgres') {
    return { held: true, tryAcquire: async () => true, release: async () => undefined }
  }
  const { target, schema } = parseStoreUrl(store.url)
  const key = lockKey(schema).toString()
  let client: pg.Client | undefined
  let held = false
  const drop = () => {
    held = false
    client = undefined
  }
  return {
    get held() {
      return held
    },
    async tryAcquire() {
      if (held) return true
      if (client === undefined) {
        const c = new pg.Client({ connectionString: target })
        c.on('error', drop)
        c.on('end', drop)
        await c.connect()
        client = c
      }
      const res = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1::bigint) as ok', [key])
      held = res.rows[0]?.ok === true
      return held
    },
    async release() {
      const c = client
      drop()
      if (c !== undefined) await c.end().catch(() => undefined)
    },
  }
}
