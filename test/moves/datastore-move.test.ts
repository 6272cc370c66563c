// Must hold (SPEC 13): a PostgreSQL -> MariaDB datastore system in shadow, an app dual-writing through
// dualWrite: the watermark advances while both agree; rows written only to the old side are found within
// two intervals and roll the system back, with their keys in the failure report. Bad input is inconclusive.
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemSummary } from '../../src/admin/system-view.js'
import type { AdminDeps } from '../../src/admin/deps.js'
import { runChecklist } from '../../src/program/checklist.js'
import { buildReport } from '../../src/program/report-data.js'
import { dualWrite } from '../../src/data/index.js'
import { RequestMetrics } from '../../src/metrics/request-metrics.js'
import { getWatermark } from '../../src/store/move-watermarks.js'
import { getState } from '../../src/store/system-state.js'
import { recentVerdicts } from '../../src/store/verdicts.js'
import { tandemConfig, type SystemInput } from '../support/config.js'
import { buildInstance } from '../support/instance.js'
import { services, uniqueName } from '../support/services.js'
import { temporaryDir } from '../support/temp-dir.js'

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0)
const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')

describe('datastore system verified continuously (PostgreSQL -> MariaDB)', () => {
  const table = uniqueName('mv').toLowerCase()
  let dir: string
  let oldDb: pg.Client
  let newDb: mysql.Connection

  beforeAll(async () => {
    dir = temporaryDir('tandem-move-')
    oldDb = new pg.Client({ connectionString: services.postgres })
    await oldDb.connect()
    newDb = await mysql.createConnection({ uri: services.mariadb })
    await oldDb.query(
      `CREATE TABLE ${table} (id integer PRIMARY KEY, name text NOT NULL, updated_at timestamp(3) NOT NULL)`,
    )
    await newDb.query(
      `CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, updated_at DATETIME(3) NOT NULL)`,
    )
    await oldDb.query(`CREATE TABLE ${table}_nots (id integer PRIMARY KEY, name text)`)
    await newDb.query(`CREATE TABLE ${table}_nots (id INT PRIMARY KEY, name TEXT)`)
    await oldDb.query(`CREATE TABLE ${table}_kt (id integer PRIMARY KEY, updated_at timestamp(3) NOT NULL)`)
    await newDb.query(`CREATE TABLE ${table}_kt (id VARCHAR(20) PRIMARY KEY, updated_at DATETIME(3) NOT NULL)`)
  })
  afterAll(async () => {
    for (const t of [table, `${table}_nots`, `${table}_kt`]) {
      await oldDb.query(`DROP TABLE IF EXISTS ${t}`)
      await newDb.query(`DROP TABLE IF EXISTS ${t}`)
    }
    await oldDb.end()
    await newDb.end()
  })

  const move = (name: string, tbl: string): SystemInput => ({
    name,
    kind: 'datastore',
    datastore: {
      from: services.postgres,
      to: services.mariadb,
      tables: [{ name: tbl, key: 'id', updatedAt: 'updated_at' }],
      lag: '2s',
      fullEvery: '1h',
      reconcileLog: join(dir, `${name}.reconcile.jsonl`),
    },
    rollout: { steps: [{ shadow: '1h' }, { weight: 100 }] },
    analysis: { interval: '10s' },
    checklist: { post: { dataDiff: { verifiedWithin: '15s' } } },
  })

  it('advances the watermark while both agree and rolls back on rows written only to the old side', async () => {
    let clock = T0
    const systems = [move('orders-db', table), move('no-updated-at', `${table}_nots`), move('key-type', `${table}_kt`)]
    // The one composition root, with the controller on an injected clock; the test ticks it itself.
    const instance = await buildInstance(tandemConfig({ dir, systems }), {
      dir,
      controller: { healthChecks: false, failuresDir: join(dir, 'failures') },
      instance: { now: () => clock },
    })
    const { controller, store, routing } = instance
    const config = instance.config()
    const save = dualWrite(
      (id: number, name: string) => oldDb.query(`INSERT INTO ${table} VALUES ($1, $2, $3)`, [id, name, stamp(clock)]),
      (id: number, name: string) => newDb.query(`INSERT INTO ${table} VALUES (?, ?, ?)`, [id, name, stamp(clock)]),
      { log: join(dir, 'orders-db.reconcile.jsonl'), describe: (id) => ({ op: 'upsert', table, key: { id } }) },
    )
    await controller.act('orders-db', 'start', { actor: 'test', force: true })

    clock += 1000
    for (let i = 1; i <= 5; i++) await save(i, `order ${i}`)
    clock = T0 + 10_000
    await controller.tick('orders-db')
    const first = await getWatermark(store, 'orders-db')
    expect(first?.verifiedThrough).toBe(T0 + 8000)

    clock = T0 + 12_000
    for (let i = 6; i <= 8; i++) await save(i, `order ${i}`)
    clock = T0 + 20_000
    await controller.tick('orders-db')
    expect((await getWatermark(store, 'orders-db'))?.verifiedThrough).toBe(T0 + 18_000)
    expect((await getState(store, 'orders-db')).stage).toBe('shadow')

    // Shown by status (the admin summary behind `tandem status --json`), the report, and the checklist.
    const deps = { config: () => config, store, routing, metrics: new RequestMetrics() } as unknown as AdminDeps
    expect(await systemSummary(deps, config.systems[0]!)).toMatchObject({
      name: 'orders-db',
      verifiedThrough: T0 + 18_000,
    })
    const report = await buildReport(config, store, { now: clock, failureDirs: [] })
    expect(report.systems.map((r) => [r.name, r.verifiedThrough])).toEqual([
      ['orders-db', T0 + 18_000],
      ['no-updated-at', null],
      ['key-type', null],
    ])
    const fresh = await runChecklist(config, store, 'orders-db', { post: true, persist: false, now: () => clock })
    expect(fresh.find((c) => c.check === 'dataDiff')).toMatchObject({ ok: true })
    const stale = await runChecklist(config, store, 'orders-db', {
      post: true,
      persist: false,
      now: () => clock + 60_000,
    })
    expect(stale.find((c) => c.check === 'dataDiff')).toMatchObject({ ok: false })

    // A dual-write bug: three rows reach only the old side.
    clock = T0 + 21_000
    for (const id of [101, 102, 103])
      await oldDb.query(`INSERT INTO ${table} VALUES ($1, 'lost', $2)`, [id, stamp(clock)])
    clock = T0 + 30_000
    await controller.tick('orders-db')
    expect((await getState(store, 'orders-db')).stage).toBe('rolled-back')
    const files = await readdir(join(dir, 'failures'))
    const failure = JSON.parse(await readFile(join(dir, 'failures', files[0]!), 'utf8')) as {
      evidence: { findings: { details: { tables: { keys: { op: string; key: unknown }[] }[] } } }
    }
    const keys = failure.evidence.findings.details.tables.flatMap((t) => t.keys)
    expect(keys).toEqual([
      { op: '-', key: { id: 101 } },
      { op: '-', key: { id: 102 } },
      { op: '-', key: { id: 103 } },
    ])
    // The watermark stays where both sides were last proven equal.
    expect((await getWatermark(store, 'orders-db'))?.verifiedThrough).toBe(T0 + 18_000)

    // Bad input: a table without updatedAt, a key typed differently: inconclusive with a code, never a pass.
    for (const [name, code] of [
      ['no-updated-at', 'TANDEM_ERR_DATA_UPDATED_AT'],
      ['key-type', 'TANDEM_ERR_DATA_KEY_TYPE'],
    ] as const) {
      await controller.act(name, 'start', { actor: 'test', force: true })
      clock += 10_000
      await controller.tick(name)
      const [v] = await recentVerdicts(store, name, 1)
      expect(v?.verdict).toBe('inconclusive')
      expect(v?.evidence.reason).toContain(code)
      expect((await getState(store, name)).stage).toBe('shadow')
    }
  })
})
