// judgeMove on two SQLite databases: the watermark moves only over passing windows, dual-write and
// shadow-read log lines count once each with their keys, a stale watermark blocks promotion, and a
// new rollout run starts the watermark over.
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import { getWatermark } from '../store/move-watermarks.js'
import { openStore, type Store } from '../store/open.js'
import { initialState, type SystemState } from '../store/system-state.js'
import { judgeMove } from './judge.js'

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0)
const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')

let dir: string
let store: Store
let oldDb: Database.Database
let newDb: Database.Database
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-judge-'))
  store = await openStore(`sqlite:${join(dir, 'tandem.db')}`)
  oldDb = new Database(join(dir, 'old.db'))
  newDb = new Database(join(dir, 'new.db'))
  for (const db of [oldDb, newDb])
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT NOT NULL)')
})
afterEach(async () => {
  oldDb.close()
  newDb.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

function system(extra = '') {
  return parseConfig(`version: 1
systems:
  - name: users-db
    kind: datastore
    datastore:
      from: sqlite:${join(dir, 'old.db')}
      to: sqlite:${join(dir, 'new.db')}
      tables: [{ name: users, key: id, updatedAt: updated_at }]
      lag: 1s
      reconcileLog: ${join(dir, 'reconcile.jsonl')}
      shadowReadLog: ${join(dir, 'shadow.jsonl')}
    analysis: { interval: 10s${extra} }
`).systems[0]!
}
const running = (startedAt = T0): SystemState => ({
  ...initialState('users-db', T0),
  stage: 'shadow',
  startedAt,
  stepIndex: 0,
})
const write = (db: Database.Database, id: number, at: number) =>
  db.prepare('INSERT OR REPLACE INTO users VALUES (?, ?, ?)').run(id, `user ${id}`, stamp(at))

describe('judgeMove', () => {
  it('passes and advances the watermark while both sides agree; a stale watermark blocks promotion', async () => {
    write(oldDb, 1, T0 + 500)
    write(newDb, 1, T0 + 500)
    const v = await judgeMove(store, system(', promote: { maxLag: 5s }'), running(), T0 + 10_000)
    expect(v).toMatchObject({
      verdict: 'pass',
      promoteOk: true,
      findings: { checked: 1, window: { since: T0, until: T0 + 9000 } },
    })
    expect((await getWatermark(store, 'users-db'))?.verifiedThrough).toBe(T0 + 9000)
    expect(v.rules.find((r) => r.rule === 'promote.maxLag')).toMatchObject({ value: 1000, result: 'pass' })
    // The new side's table goes away: inconclusive with a code, the watermark stays and soon lags too far.
    newDb.exec('DROP TABLE users')
    const broken = await judgeMove(store, system(', promote: { maxLag: 5s }'), running(), T0 + 20_000)
    expect(broken).toMatchObject({
      verdict: 'inconclusive',
      promoteOk: false,
      findings: { error: { code: 'TANDEM_ERR_DATA_TABLE_MISSING' } },
    })
    expect(broken.rules.find((r) => r.rule === 'promote.maxLag')).toMatchObject({ value: 11_000, result: 'fail' })
    expect((await getWatermark(store, 'users-db'))?.verifiedThrough).toBe(T0 + 9000)
  })

  it('counts dual-write failures and shadow-read mismatches once, naming their keys', async () => {
    appendFileSync(
      join(dir, 'reconcile.jsonl'),
      `${JSON.stringify({ time: 'x', op: 'upsert', table: 'users', key: { id: 7 }, error: 'boom' })}\n`,
    )
    await judgeMove(store, system(), running(), T0 + 2000)
    // Lines written before the run began are not this run's failures.
    appendFileSync(
      join(dir, 'reconcile.jsonl'),
      `${JSON.stringify({ time: 'x', op: 'upsert', table: 'users', key: { id: 8 }, error: 'boom' })}\n`,
    )
    appendFileSync(
      join(dir, 'shadow.jsonl'),
      `${JSON.stringify({ time: 'x', args: [9], old: { id: 9 }, new: null })}\n`,
    )
    const v = await judgeMove(store, system(), running(), T0 + 10_000)
    expect(v.verdict).toBe('fail')
    expect(v.reason).toContain('dualWriteFailures 1 > 0 ({"id":8})')
    expect(v.reason).toContain('dataMismatches 1 > 0')
    expect(v.findings.details).toMatchObject({
      dualWriteFailures: { count: 1, keys: [{ id: 8 }] },
      shadowReadMismatches: { count: 1, args: [[9]] },
    })
    expect((await getWatermark(store, 'users-db'))?.verifiedThrough).toBe(T0 + 1000)
    const again = await judgeMove(store, system(), running(), T0 + 20_000)
    expect(again.verdict).toBe('pass')
  })

  it('finds a row written to the old side only, and starts over for a new run', async () => {
    write(oldDb, 2, T0 + 3000)
    const v = await judgeMove(store, system(), running(), T0 + 10_000)
    expect(v.verdict).toBe('fail')
    expect(v.findings.details.tables).toEqual([
      { table: 'users', rowsChecked: 1, differing: 1, keys: [{ op: '-', key: { id: 2 } }], full: false },
    ])
    // A row written again after the window is left to the next window (its dual write may be in flight).
    write(newDb, 2, T0 + 3000)
    write(oldDb, 2, T0 + 19_500)
    const inFlight = await judgeMove(store, system(), running(), T0 + 20_000)
    expect(inFlight).toMatchObject({ verdict: 'pass', findings: { checked: 1, window: { until: T0 + 19_000 } } })
    // A retry is a new run (startedAt moves): the window starts at the retry, not at the old watermark.
    const retried = await judgeMove(store, system(), running(T0 + 60_000), T0 + 70_000)
    expect(retried).toMatchObject({ verdict: 'pass', findings: { window: { since: T0 + 60_000, until: T0 + 69_000 } } })
  })
})
