// Several gateway instances on one PostgreSQL store (SPEC 11): state changes reach every instance, and
// exactly one holds the controller lease, handing it over when the holder goes away.
import { afterAll, describe, expect, it } from 'vitest'
import { openChangeFeed, type ChangeKind } from '../../src/store/changes.js'
import { controllerLease } from '../../src/store/lease.js'
import { openStore, type Store } from '../../src/store/open.js'
import { recordDecision } from '../../src/store/system-state.js'
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
    cleanups.unshift(() => otherFeed.close(), () => ownFeed.close())
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
    cleanups.unshift(() => leaseA.release(), () => leaseB.release())

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
    cleanups.unshift(() => leaseA.release(), () => leaseOther.release())
    expect(await leaseA.tryAcquire()).toBe(true)
    expect(await leaseOther.tryAcquire()).toBe(true)
  })

  it('is always held on the single-process SQLite store', async () => {
    const store = await openStore('sqlite::memory:')
    cleanups.unshift(() => store.close())
    expect(await controllerLease(store).tryAcquire()).toBe(true)
  })
})
