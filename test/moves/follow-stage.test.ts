// Must hold (SPEC 13): walking a PostgreSQL -> MariaDB datastore system to promoted moves shadowRead reads
// to the new store by weight, then makes it the source of truth; a rollback puts the old side back and the
// write the old side missed while promoted is replayed to it from the reconciliation log's queue.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { dualWrite, shadowRead } from '../../src/data/index.js'
import { MAX_REFRESH_MS } from '../../src/flags/follow.js'
import { bucket } from '../../src/gateway/assign-arm.js'
import { FLAGS, act, flagInstance } from '../flags/support.js'
import { eventually } from '../support/eventually.js'
import { services, uniqueName } from '../support/services.js'

const table = uniqueName('fs').toLowerCase()
let cleanup: Array<() => Promise<void>> = []
let oldDb: pg.Pool
let newDb: mysql.Connection
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-follow-'))
  oldDb = new pg.Pool({ connectionString: services.postgres, max: 2 })
  newDb = await mysql.createConnection({ uri: services.mariadb })
  await oldDb.query(`CREATE TABLE ${table} (id text PRIMARY KEY, name text NOT NULL, updated_at timestamp(3) NOT NULL)`)
  await newDb.query(
    `CREATE TABLE ${table} (id VARCHAR(32) PRIMARY KEY, name VARCHAR(64) NOT NULL, updated_at DATETIME(3) NOT NULL)`,
  )
})
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
  await oldDb?.query(`DROP TABLE IF EXISTS ${table}`)
  await newDb?.query(`DROP TABLE IF EXISTS ${table}`)
  await oldDb?.end()
  await newDb?.end()
  await rm(dir, { recursive: true, force: true })
})

it('walks reads to the new store, makes it authoritative, and loses no write on a rollback', async () => {
  const { instance } = await flagInstance(
    [
      {
        name: 'orders-db',
        kind: 'datastore',
        datastore: {
          from: services.postgres,
          to: services.mariadb,
          tables: [{ name: table, key: 'id', updatedAt: 'updated_at' }],
          lag: '2s',
          fullEvery: '1h',
        },
        rollout: { steps: [{ shadow: '1h' }, { weight: 50, pause: '1h' }, { weight: 100 }] },
        analysis: { interval: '1h' },
      },
    ],
    cleanup,
  )
  const admin = instance.adminUrl
  const logFile = join(dir, 'reconcile.jsonl')
  // The old side can be made to fail, as if its database were unreachable.
  let oldDown = false
  const write = dualWrite(
    async (id: string, name: string) => {
      if (oldDown) throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
      await oldDb.query(
        `INSERT INTO ${table} VALUES ($1, $2, now()) ON CONFLICT (id) DO UPDATE SET name = $2, updated_at = now()`,
        [id, name],
      )
    },
    (id: string, name: string) => newDb.query(`REPLACE INTO ${table} VALUES (?, ?, NOW(3))`, [id, name]),
    {
      system: 'orders-db',
      admin,
      token: FLAGS,
      refreshMs: 100,
      log: logFile,
      describe: (id, name) => ({ op: 'upsert', table, key: { id }, row: { id, name } }),
    },
  )
  cleanup.push(async () => write.close())
  const flag = write.flag!
  expect(flag.refreshMs).toBeLessThanOrEqual(MAX_REFRESH_MS)
  const readOld = async (id: string) =>
    `old:${(await oldDb.query(`SELECT name FROM ${table} WHERE id = $1`, [id])).rows[0]?.name}`
  const readNew = async (id: string) => {
    const [rows] = await newDb.query(`SELECT name FROM ${table} WHERE id = ?`, [id])
    return `new:${(rows as Array<{ name: string }>)[0]?.name}`
  }
  // Serving results are tagged with their store so the test sees which side answered.
  const sameValue = (a: string, b: unknown) => a.slice(4) === String(b).slice(4)
  const read = shadowRead(readOld, readNew, { flag, key: (id) => id, compare: sameValue })
  await flag.ready()
  const stageIs = (stage: string) => eventually(async () => (await flag.refresh(), flag.stage === stage))

  const keys = Array.from({ length: 100 }, (_, i) => `k${i}`)
  await act(admin, 'orders-db', 'start')
  await stageIs('shadow')
  for (const k of keys) await write(k, 'v1')
  for (const k of keys) expect(await read(k)).toBe('old:v1')

  // canary 50 %: a key is read from the new store when its bucket says so.
  await act(admin, 'orders-db', 'advance')
  await stageIs('canary')
  for (const k of keys) expect(await read(k)).toBe(bucket('orders-db', k) < 5000 ? 'new:v1' : 'old:v1')
  expect(keys.some((k) => bucket('orders-db', k) < 5000)).toBe(true)

  // promoted: the new store is the source of truth for every key.
  await act(admin, 'orders-db', 'promote')
  await stageIs('promoted')
  for (const k of keys) expect(await read(k)).toBe('new:v1')
  // The old side fails a write while the new side is authoritative: the caller is served, the miss logged.
  oldDown = true
  await write('k1', 'v2')
  await write.flush()
  expect(await readNew('k1')).toBe('new:v2')
  expect(await readOld('k1')).toBe('old:v1')
  const logged = (await readFile(logFile, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  expect(write.replay.pending).toBe(1)
  expect(logged).toMatchObject([{ side: 'old', op: 'upsert', key: { id: 'k1' }, row: { id: 'k1', name: 'v2' } }])
  oldDown = false

  // rollback: the old side is authoritative again and gets the missed write back before serving.
  await act(admin, 'orders-db', 'rollback')
  await stageIs('rolled-back')
  await eventually(() => write.replay.replayed === 1)
  expect(await read('k1')).toBe('old:v2')
  for (const k of keys) expect((await read(k)).startsWith('old:')).toBe(true)
  await write('k2', 'v3')
  expect([await readOld('k2'), await readNew('k2')]).toEqual(['old:v3', 'new:v3'])
  await read.flush()
  expect(read.stats.mismatches).toBe(0)
}, 60_000)
