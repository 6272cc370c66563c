// The diff store on PostgreSQL (several gateway instances share one): the same batched upserts and
// the same report as on SQLite, in a throwaway schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDiffReport } from '../../src/compare/diff-report.js'
import { ComparisonEngine } from '../../src/compare/engine.js'
import type { CapturedResponse, Exchange } from '../../src/compare/sink.js'
import { openStore, type Store } from '../../src/store/open.js'
import { buildConfig, system, tandemConfig } from '../support/config.js'
import { withPostgresSchema } from '../support/postgres.js'

const config = buildConfig(
  tandemConfig({ systems: [system('pg-shop', { legacy: 'http://127.0.0.1:1', candidate: 'http://127.0.0.1:2' })] }),
)

function res(value: unknown): CapturedResponse {
  return {
    ok: true,
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(value)),
    truncated: false,
    durationMs: 1,
  }
}

let pg: Awaited<ReturnType<typeof withPostgresSchema>>
let store: Store
beforeAll(async () => {
  pg = await withPostgresSchema()
  store = await openStore(pg.url)
})
afterAll(async () => {
  await store?.close()
  await pg?.drop()
})

describe('diff store on PostgreSQL', () => {
  it('accumulates routes, fields, samples and skips across flushes', async () => {
    const engine = new ComparisonEngine({ config, store, flushIntervalMs: 600_000 })
    await engine.start()
    const ex = (i: number): Exchange => ({
      system: 'pg-shop',
      route: '/a',
      at: Date.now(),
      primary: 'legacy',
      request: { method: 'GET', url: `/a/${i}`, headers: { authorization: 'Bearer PG-SECRET' }, body: null },
      legacy: res({ n: i, v: 1 }),
      candidate: i % 2 === 0 ? res({ n: i, v: 2 }) : res({ n: i, v: 1 }),
    })
    for (let i = 0; i < 6; i++) engine.submit(ex(i))
    await engine.idle()
    await engine.flush()
    for (let i = 6; i < 10; i++) engine.submit(ex(i))
    engine.submit({ ...ex(99), candidate: { ...res({}), truncated: true } })
    await engine.close()

    const report = await readDiffReport(store, config.systems[0]!)
    expect(report.routes).toHaveLength(1)
    expect(report.routes[0]).toMatchObject({
      route: '/a',
      compared: 10,
      matches: 5,
      mismatches: 5,
      skipped: 1,
      skippedReasons: { truncated: 1 },
    })
    expect(report.routes[0]!.fields).toMatchObject([
      { path: '/v', kind: 'changed', raw: 5, noise: 0, total: 10, real: true },
    ])
    expect(report.routes[0]!.fields[0]!.samples).toHaveLength(5)
    expect(JSON.stringify(report)).not.toContain('PG-SECRET')
  })
})
