// The store suite, run on both engines: embedded SQLite and PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore, parseStoreUrl, type Store } from '../../src/store/open.js'
import { getState, listDecisions, listStates, recordDecision } from '../../src/store/system-state.js'
import { withPostgresSchema } from '../support/postgres.js'

const dir = mkdtempSync(join(tmpdir(), 'tandem-store-'))
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanups) await c()
  rmSync(dir, { recursive: true, force: true })
})

const engines: Array<[string, () => Promise<string>]> = [
  ['sqlite', async () => `sqlite:${join(dir, `s-${Math.random().toString(36).slice(2)}`, 'tandem.db')}`],
  [
    'postgres',
    async () => {
      const pg = await withPostgresSchema()
      cleanups.push(pg.drop)
      return pg.url
    },
  ],
]

describe.each(engines)('store on %s', (_engine, makeUrl) => {
  async function open(url: string): Promise<Store> {
    const store = await openStore(url)
    cleanups.unshift(() => store.close().catch(() => undefined))
    return store
  }

  it('treats an unknown system as pending with no decisions', async () => {
    const store = await open(await makeUrl())
    const state = await getState(store, 'todo-api')
    expect(state).toMatchObject({ stage: 'pending', weight: 0, stepIndex: -1, version: 0 })
    expect(await listDecisions(store, 'todo-api')).toEqual([])
  })

  it('writes a state change and its decision together, with per-system sequence numbers', async () => {
    const store = await open(await makeUrl())
    const a = await recordDecision(
      store,
      'todo-api',
      0,
      { stage: 'shadow', stepIndex: 0, stepStartedAt: 1000 },
      { action: 'start', actor: 'alice', reason: 'operator start' },
    )
    const b = await recordDecision(
      store,
      'todo-api',
      a.state.version,
      { stage: 'canary', weight: 5, stepIndex: 1 },
      { action: 'advance', actor: 'controller', reason: 'verdict pass', evidence: { matchRate: 0.97 } },
    )
    await recordDecision(
      store,
      'auth-api',
      0,
      { stage: 'shadow', stepIndex: 0 },
      { action: 'start', actor: 'bob', reason: 'operator start' },
    )

    expect(b.state).toMatchObject({ stage: 'canary', weight: 5, stepIndex: 1, version: 2 })
    const decisions = await listDecisions(store, 'todo-api')
    expect(decisions.map((d) => [d.seq, d.action, d.fromStage, d.toStage])).toEqual([
      [1, 'start', 'pending', 'shadow'],
      [2, 'advance', 'shadow', 'canary'],
    ])
    expect(decisions[1]!.evidence).toEqual({ matchRate: 0.97 })
    expect((await listDecisions(store, 'auth-api')).map((d) => d.seq)).toEqual([1])
  })

  it('refuses a write based on a stale version and leaves state and log intact', async () => {
    const store = await open(await makeUrl())
    const a = await recordDecision(store, 's', 0, { stage: 'shadow' }, { action: 'start', actor: 'x', reason: 'r' })
    await recordDecision(
      store,
      's',
      a.state.version,
      { stage: 'canary', weight: 5 },
      { action: 'advance', actor: 'controller', reason: 'r' },
    )
    await expect(
      recordDecision(
        store,
        's',
        a.state.version,
        { stage: 'rolled-back', weight: 0 },
        { action: 'rollback', actor: 'y', reason: 'r' },
      ),
    ).rejects.toMatchObject({ code: 'TANDEM_ERR_STORE_CONFLICT' })
    expect(await getState(store, 's')).toMatchObject({ stage: 'canary', weight: 5, version: 2 })
    expect((await listDecisions(store, 's')).map((d) => d.seq)).toEqual([1, 2])
  })

  it('keeps stage, weight, step and decisions across a close and reopen', async () => {
    const url = await makeUrl()
    const first = await open(url)
    let v = 0
    for (const [stage, weight, step] of [
      ['shadow', 0, 0],
      ['canary', 5, 1],
      ['canary', 25, 2],
    ] as const) {
      v = (
        await recordDecision(
          first,
          'todo-api',
          v,
          { stage, weight, stepIndex: step, stepStartedAt: 42 },
          { action: 'advance', actor: 'c', reason: 'r' },
        )
      ).state.version
    }
    await first.close()
    const second = await open(url)
    expect(await listStates(second)).toEqual([
      expect.objectContaining({ system: 'todo-api', stage: 'canary', weight: 25, stepIndex: 2, stepStartedAt: 42 }),
    ])
    expect((await listDecisions(second, 'todo-api')).map((d) => d.seq)).toEqual([1, 2, 3])
  })
})

describe('store URLs', () => {
  it('accepts sqlite: and postgres:// and rejects anything else with a coded error', () => {
    expect(parseStoreUrl('sqlite:.tandem/tandem.db')).toEqual({ dialect: 'sqlite', target: '.tandem/tandem.db' })
    expect(parseStoreUrl('postgres://u@h/db').dialect).toBe('postgres')
    expect(() => parseStoreUrl('mysql://root@localhost/x')).toThrowError(
      expect.objectContaining({ code: 'TANDEM_ERR_STORE_URL' }),
    )
  })
})
