// Several gateway instances on one PostgreSQL store (SPEC 11): state changes reach every instance, and
// exactly one holds the controller lease, handing it over when the holder goes away or stops renewing;
// a stale holder's writes are refused by the lease's fencing token.
import { afterAll, describe, expect, it } from 'vitest'
import { openChangeFeed, type ChangeKind } from '../../src/store/changes.js'
import { saveVerdict } from '../../src/store/verdicts.js'
import { controllerLease, readLease, type Lease } from '../../src/store/lease.js'
import { openStore, type Store } from '../../src/store/open.js'
import { getState, listDecisions, recordDecision } from '../../src/store/system-state.js'
import { withPostgresSchema } from '../support/postgres.js'

const cleanups: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const c of cleanups) await c().catch(() => undefined)
})

async function pgStore(url?: string): Promise<{ store: Store; url: string }> {
  let u = url
  if (u === undefined) {
    const schema = await withPostgresSchema()
    cleanups.push(schema.drop)
    u = schema.url
  }
  const store = await openStore(u)
  cleanups.unshift(() => store.close())
  return { store, url: u }
}

function nextChange(feed: Awaited<ReturnType<typeof openChangeFeed>>): Promise<[ChangeKind, string]> {
  return new Promise((resolve) => {
    const off = feed.on((kind, subject) => {
      off()
      resolve([kind, subject])
    })
  })
}

describe('state changes across instances', () => {
  it('reach another instance on the same PostgreSQL schema once committed', async () => {
    const a = await pgStore()
    const b = await pgStore(a.url)
    const feed = await openChangeFeed(b.store)
    cleanups.unshift(() => feed.close())
    const heard = nextChange(feed)
    await recordDecision(a.store, 'todo-api', 0, { stage: 'shadow' }, { action: 'start', actor: 't', reason: 'r' })
    expect(await heard).toEqual(['state', 'todo-api'])
  })

  it('do not cross to a program in another schema of the same database', async () => {
    const a = await pgStore()
    const other = await pgStore()
    const otherFeed = await openChangeFeed(other.store)
    const ownFeed = await openChangeFeed(a.store)
    cleanups.unshift(
      () => otherFeed.close(),
      () => ownFeed.close(),
    )
    const foreign: string[] = []
    otherFeed.on((_k, s) => foreign.push(s))
    const own = nextChange(ownFeed)
    await recordDecision(a.store, 'billing', 0, { stage: 'shadow' }, { action: 'start', actor: 't', reason: 'r' })
    // The own feed hearing it proves the notification was sent; the other program heard nothing.
    expect(await own).toEqual(['state', 'billing'])
    expect(foreign).toEqual([])
  })

  it('are heard in process on the embedded SQLite store', async () => {
    const store = await openStore('sqlite::memory:')
    cleanups.unshift(() => store.close())
    const feed = await openChangeFeed(store)
    const heard = nextChange(feed)
    await recordDecision(store, 'todo-api', 0, { stage: 'shadow' }, { action: 'start', actor: 't', reason: 'r' })
    expect(await heard).toEqual(['state', 'todo-api'])
    await feed.close()
  })
})

describe('controller lease', () => {
  it('is held by one instance at a time and handed over when the holder goes away', async () => {
    const a = await pgStore()
    const b = await pgStore(a.url)
    const leaseA = controllerLease(a.store)
    const leaseB = controllerLease(b.store)
    cleanups.unshift(
      () => leaseA.release(),
      () => leaseB.release(),
    )

    expect(await leaseA.tryAcquire()).toBe(true)
    expect(await leaseB.tryAcquire()).toBe(false)
    expect(await leaseA.tryAcquire()).toBe(true)
    await leaseA.release()
    expect(leaseA.held).toBe(false)
    expect(await leaseB.tryAcquire()).toBe(true)
    expect(await leaseA.tryAcquire()).toBe(false)
  })

  it('is separate per schema, so two programs in one database each have a controller', async () => {
    const a = await pgStore()
    const other = await pgStore()
    const leaseA = controllerLease(a.store)
    const leaseOther = controllerLease(other.store)
    cleanups.unshift(
      () => leaseA.release(),
      () => leaseOther.release(),
    )
    expect(await leaseA.tryAcquire()).toBe(true)
    expect(await leaseOther.tryAcquire()).toBe(true)
  })

  it('is always held on the single-process SQLite store', async () => {
    const store = await openStore('sqlite::memory:')
    cleanups.unshift(() => store.close())
    expect(await controllerLease(store).tryAcquire()).toBe(true)
  })
})

/** Ask `lease` to acquire until it does, in a bounded loop (its rival's term must run out first). */
async function acquireWithin(lease: Lease, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    if (await lease.tryAcquire()) return true
  }
  return false
}

const hold = { action: 'hold', actor: 'controller', reason: 'r' } as const

describe('controller lease fencing', () => {
  it('is taken over with the next token once its holder stops renewing, and the stale fence is refused', async () => {
    const b = await pgStore()
    // The holder's own connection pool: closing it stops its renewals, as a frozen process's would.
    const holderStore = await openStore(b.url)
    const leaseA = controllerLease(holderStore, { ttl: () => 300 })
    const leaseB = controllerLease(b.store, { ttl: () => 300 })
    cleanups.unshift(
      () => leaseA.release(),
      () => leaseB.release(),
    )

    expect(await leaseA.tryAcquire()).toBe(true)
    expect(leaseA.fence.token).toBe(1)
    const first = await recordDecision(b.store, 'orders', 0, { stage: 'shadow' }, hold, Date.now(), leaseA.fence)
    expect(first.decision).toMatchObject({ seq: 1, leaseToken: 1 })
    expect(await leaseB.tryAcquire()).toBe(false)

    await holderStore.close()
    expect(await acquireWithin(leaseB, 10_000)).toBe(true)
    expect(leaseB.fence.token).toBe(2)
    expect(await readLease(b.store)).toMatchObject({ holder: leaseB.holder, token: 2 })

    // The old holder's decision and verdict are refused in their transaction; nothing is written.
    const lost = { code: 'TANDEM_ERR_LEASE_LOST' }
    const stale = recordDecision(b.store, 'orders', 1, { stage: 'canary' }, hold, Date.now(), leaseA.fence)
    await expect(stale).rejects.toMatchObject(lost)
    const verdict = { verdict: 'pass', reason: 'r', judge: 'threshold', score: null, samples: {}, promoteOk: true }
    const whole = { ...verdict, rules: [], window: { start: 0, end: 1 } } as never
    const staleVerdict = saveVerdict(b.store, first.state, whole, Date.now(), leaseA.fence)
    await expect(staleVerdict).rejects.toMatchObject(lost)
    expect(await getState(b.store, 'orders')).toMatchObject({ stage: 'shadow', version: 1 })

    const second = await recordDecision(b.store, 'orders', 1, { stage: 'canary' }, hold, Date.now(), leaseB.fence)
    expect(second.decision).toMatchObject({ seq: 2, leaseToken: 2 })
    // An operator's decision carries no fence and is not the lease's business.
    await recordDecision(b.store, 'orders', 2, { paused: true }, { action: 'pause', actor: 'alice', reason: 'r' })
    const terms = (await listDecisions(b.store, 'orders')).map((d) => [d.seq, d.leaseToken])
    expect(terms).toEqual([
      [1, 1],
      [2, 2],
      [3, null],
    ])
  })

  it("refuses the old term's write and takes the new one's when both arrive together", async () => {
    const a = await pgStore()
    const b = await pgStore(a.url)
    const leaseA = controllerLease(a.store, { ttl: () => 60_000 })
    cleanups.unshift(() => leaseA.release())
    expect(await leaseA.tryAcquire()).toBe(true)
    const stale = leaseA.fence
    // Another instance takes over while the holder is frozen (its term ended on the database's clock).
    await b.store.db.updateTable('controller_lease').set({ expires_at: 0 }).execute()
    const leaseB = controllerLease(b.store, { ttl: () => 60_000 })
    cleanups.unshift(() => leaseB.release())
    expect(await leaseB.tryAcquire()).toBe(true)
    const results = await Promise.allSettled([
      recordDecision(a.store, 'orders', 0, { stage: 'shadow' }, hold, Date.now(), stale),
      recordDecision(b.store, 'orders', 0, { stage: 'shadow' }, hold, Date.now(), leaseB.fence),
    ])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled'])
    expect((await listDecisions(a.store, 'orders')).map((d) => [d.seq, d.leaseToken])).toEqual([[1, 2]])
  })

  it('is taken at once on SQLite, whose single process replaces a holder that died', async () => {
    const store = await openStore('sqlite::memory:')
    cleanups.unshift(() => store.close())
    const dead = controllerLease(store)
    expect(await dead.tryAcquire()).toBe(true)
    const restarted = controllerLease(store)
    expect(await restarted.tryAcquire()).toBe(true)
    expect(restarted.fence.token).toBe(2)
    const stale = recordDecision(store, 'orders', 0, { stage: 'shadow' }, hold, Date.now(), dead.fence)
    await expect(stale).rejects.toMatchObject({ code: 'TANDEM_ERR_LEASE_LOST' })
    const current = await recordDecision(store, 'orders', 0, { stage: 'shadow' }, hold, Date.now(), restarted.fence)
    expect(current.decision.leaseToken).toBe(2)
    await dead.release()
    await restarted.release()
  })
})
