// A datastore system walks shadow -> canary -> promoted on passing verification verdicts (SPEC 13),
// and holds at the last step while its verified-through time lags more than analysis.promote.maxLag.
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { getState, listDecisions } from '../../src/store/system-state.js'
import { tandemConfig, type SystemInput } from '../support/config.js'
import { buildInstance } from '../support/instance.js'
import { temporaryDir } from '../support/temp-dir.js'

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0)

describe('datastore system walk', () => {
  it('advances through its steps to promoted while verification passes, and holds on a lagging watermark', async () => {
    const dir = temporaryDir('tandem-move-walk-')
    for (const side of ['old', 'new']) {
      const db = new Database(join(dir, `${side}.db`))
      db.exec(
        `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT NOT NULL);
         INSERT INTO users VALUES (1, 'a', '2026-01-05 12:00:01.000')`,
      )
      db.close()
    }
    const move = (name: string, maxLag: string): SystemInput => ({
      name,
      kind: 'datastore',
      datastore: {
        from: `sqlite:${join(dir, 'old.db')}`,
        to: `sqlite:${join(dir, 'new.db')}`,
        tables: [{ name: 'users', key: 'id', updatedAt: 'updated_at' }],
        lag: '2s',
      },
      rollout: { steps: [{ shadow: '10s' }, { weight: 50, pause: '10s' }, { weight: 100 }] },
      analysis: { interval: '10s', promote: { maxLag } },
    })
    let clock = T0
    // The one composition root, with the controller on an injected clock; the test ticks it itself.
    const { controller, store, routing } = await buildInstance(
      tandemConfig({ dir, systems: [move('users-db', '1m'), move('laggy-db', '1s')] }),
      { dir, controller: { healthChecks: false, failuresDir: join(dir, 'f') }, instance: { now: () => clock } },
    )
    for (const name of ['users-db', 'laggy-db']) await controller.act(name, 'start', { actor: 'test', force: true })
    const stages: string[] = []
    for (let i = 1; i <= 3; i++) {
      clock = T0 + i * 10_000
      for (const name of ['users-db', 'laggy-db']) await controller.tick(name)
      const s = await getState(store, 'users-db')
      stages.push(`${s.stage}:${s.weight}`)
    }
    expect(stages).toEqual(['canary:50', 'canary:100', 'promoted:100'])
    expect((await listDecisions(store, 'users-db')).map((d) => d.action)).toEqual([
      'start',
      'advance',
      'advance',
      'promote',
    ])
    expect(routing.get('users-db')).toMatchObject({ stage: 'promoted', weight: 100 })
    // The watermark is always at least the 2 s lag behind: a 1 s maxLag never lets the system promote.
    expect(await getState(store, 'laggy-db')).toMatchObject({ stage: 'canary', weight: 100 })
    expect((await controller.status('laggy-db')).holdReason).toContain(
      'promote rule not met: verifiedLag 2000 not <= 1000ms',
    )
  })
})
