// Datastore and events systems: the checklist runs `tandem data diff` / `tandem events verify` as
// child processes and judges them by exit code (0 pass, 1 differences, 2 could not run).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runChecklist } from '../../src/program/checklist.js'
import { openStore, type Store } from '../../src/store/open.js'
import { buildConfig, tandemConfig } from '../support/config.js'

function table(file: string, rows: [number, string][]): void {
  const db = new SQLite(file)
  db.exec('drop table if exists accounts; create table accounts (id integer primary key, owner text)')
  const insert = db.prepare('insert into accounts values (?, ?)')
  for (const r of rows) insert.run(...r)
  db.close()
}

describe('dataDiff and eventsVerify checks', () => {
  let dir: string
  let store: Store
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-verify-'))
    store = await openStore(`sqlite:${join(dir, 'store.db')}`)
    table(join(dir, 'old.db'), [
      [1, 'ada'],
      [2, 'grace'],
    ])
    table(join(dir, 'same.db'), [
      [1, 'ada'],
      [2, 'grace'],
    ])
    table(join(dir, 'drift.db'), [
      [1, 'ada'],
      [2, 'GRACE'],
    ])
  })
  afterAll(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  // A datastore and an events system: no upstreams, no routes.
  const config = (to: string) =>
    buildConfig(
      tandemConfig({
        systems: [
          {
            name: 'accounts-db',
            kind: 'datastore',
            checklist: {
              dataDiff: {
                from: `sqlite:${join(dir, 'old.db')}`,
                to: `sqlite:${join(dir, to)}`,
                table: 'accounts',
                key: ['id'],
              },
            },
          },
          {
            name: 'ledger-events',
            kind: 'events',
            checklist: {
              eventsVerify: {
                from: 'nosuchbroker://127.0.0.1:1/a',
                to: 'nosuchbroker://127.0.0.1:1/b',
                id: 'header:message-id',
              },
            },
          },
        ],
      }),
    )

  it('passes a clean data diff and fails a drifted one with the diff summary as output', async () => {
    const clean = await runChecklist(config('same.db'), store, 'accounts-db')
    expect(clean.find((c) => c.check === 'dataDiff')).toMatchObject({ configured: true, ok: true, status: 'pass' })
    // The six built-ins are still listed, none configured for this system.
    expect(clean.filter((c) => c.status === 'not-configured').map((c) => c.check)).toEqual([
      'backup',
      'tests',
      'dependencies',
      'rollbackPlan',
      'monitoring',
      'notify',
    ])

    const drift = await runChecklist(config('drift.db'), store, 'accounts-db')
    const check = drift.find((c) => c.check === 'dataDiff')!
    expect(check.ok).toBe(false)
    expect(check.output).toContain('differences found')
    expect(check.output).toMatch(/"changed": 1/)
  })

  it('fails an events verification that cannot run, saying so', async () => {
    const results = await runChecklist(config('same.db'), store, 'ledger-events')
    const check = results.find((c) => c.check === 'eventsVerify')!
    expect(check.ok).toBe(false)
    expect(check.output).toMatch(/could not run|did not finish/)
  })
})
