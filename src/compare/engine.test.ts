import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import { openStore, type Store } from '../store/open.js'
import { ComparisonEngine, type ComparisonRecord } from './engine.js'
import type { CapturedResponse, Exchange } from './sink.js'

const yaml = (extra = '') => `
version: 1
systems:
  - name: shop
    legacy: { url: http://127.0.0.1:1 }
    candidate: { url: http://127.0.0.1:2 }
    routes: [{ path: /** }]
    compare:
      samplesPerField: 2
${extra}
`

function res(value: unknown, headers: Record<string, string> = {}, status = 200): CapturedResponse {
  return {
    ok: true,
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(value)),
    truncated: false,
    durationMs: 1,
  }
}

function ex(
  legacy: unknown,
  candidate: unknown,
  secondary?: unknown,
  request: Partial<Exchange['request']> = {},
): Exchange {
  return {
    system: 'shop',
    route: '/items/:id',
    at: Date.now(),
    primary: 'legacy',
    request: { method: 'GET', url: '/items/1', headers: {}, body: null, ...request },
    legacy: res(legacy),
    candidate: res(candidate),
    secondary: secondary === undefined ? undefined : res(secondary),
  }
}

let dir: string
let store: Store
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-compare-'))
  store = await openStore(`sqlite:${join(dir, 'tandem.db')}`)
})
afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('ComparisonEngine', () => {
  it('submit returns before comparing; results reach counts, Prometheus and the store in batches', async () => {
    const incs: string[] = []
    const engine = new ComparisonEngine({
      config: parseConfig(yaml()),
      store,
      flushIntervalMs: 600_000,
      shadowTotal: { inc: (l) => void incs.push(`${l.system}:${l.result}`) },
    })
    await engine.start()
    const seen: ComparisonRecord[] = []
    engine.onRecord((r) => seen.push(r))
    const t0 = Date.now()
    for (let i = 0; i < 10; i++) engine.submit(ex({ id: i, price: 1 }, { id: i, price: i < 3 ? 2 : 1 }))
    expect(seen).toHaveLength(0)
    await engine.idle()
    expect(engine.counts('shop', t0 - 1000, Date.now() + 1000)).toEqual({
      match: 7,
      mismatch: 3,
      noiseOnly: 0,
      skipped: 0,
      candidateError: 0,
    })
    expect(incs.filter((s) => s === 'shop:mismatch')).toHaveLength(3)
    expect(await store.db.selectFrom('compare_routes').selectAll().execute()).toHaveLength(0)
    await engine.close()
    const route = await store.db.selectFrom('compare_routes').selectAll().executeTakeFirstOrThrow()
    expect(route).toMatchObject({ route: '/items/:id', compared: 10, matches: 7, mismatches: 3 })
    const fields = await store.db.selectFrom('compare_fields').selectAll().execute()
    expect(fields).toMatchObject([{ path: '/price', kind: 'changed', raw: 3, noise: 0, total: 10 }])
    expect(await store.db.selectFrom('compare_samples').selectAll().execute()).toHaveLength(2)
    const windows = await store.db.selectFrom('compare_windows').selectAll().execute()
    expect(windows.reduce((n, w) => n + w.matches, 0)).toBe(7)
  })

  it('stores no secret from headers, cookies or /password fields in any table', async () => {
    const engine = new ComparisonEngine({
      config: parseConfig(yaml("      redact: ['headers.x-api-key', '/password', '**/token']")),
      store,
    })
    await engine.start()
    for (let i = 0; i < 5; i++) {
      const e = ex(
        { password: 'LEGACY-PW', user: { token: 'TOKEN-1' }, n: i },
        { password: 'CAND-PW', user: { token: 'TOKEN-2' }, n: i + 1 },
        undefined,
        {
          method: 'POST',
          headers: {
            authorization: 'Bearer SECRET-BEARER',
            cookie: 'sid=SECRET-COOKIE',
            'x-api-key': 'SECRET-KEY',
            'content-type': 'application/json',
          },
          body: Buffer.from(JSON.stringify({ user: 'ann', password: 'SECRET-PASSWORD' })),
        },
      )
      engine.submit({ ...e, legacy: res({ password: 'LEGACY-PW', n: i }, { 'set-cookie': 'sid=SECRET-SET-COOKIE' }) })
    }
    await engine.close()
    const tables = ['compare_routes', 'compare_fields', 'compare_samples', 'compare_windows'] as const
    let text = ''
    for (const t of tables) text += JSON.stringify(await store.db.selectFrom(t).selectAll().execute())
    expect(text).toContain('[redacted]')
    for (const secret of ['SECRET', 'LEGACY-PW', 'CAND-PW', 'TOKEN-1', 'TOKEN-2']) expect(text).not.toContain(secret)
  })

  it('drops work beyond the queue bound and counts it as skipped (overloaded)', async () => {
    const engine = new ComparisonEngine({ config: parseConfig(yaml()), store, queueLimit: 5 })
    await engine.start()
    for (let i = 0; i < 20; i++) engine.submit(ex({ a: 1 }, { a: 1 }))
    await engine.idle()
    const c = engine.counts('shop', 0, Date.now() + 1000)
    expect(c.match).toBe(5)
    expect(c.skipped).toBe(15)
    expect(engine.skipped('shop')).toEqual({ overloaded: 15 })
    await engine.close()
    expect(await store.db.selectFrom('compare_skips').select(['route', 'reason', 'count']).execute()).toEqual([
      { route: '/items/:id', reason: 'overloaded', count: 15 },
    ])
  })

  it('compares large bodies in worker threads with the same result', async () => {
    const engine = new ComparisonEngine({ config: parseConfig(yaml()), store, workerThreshold: 1024, workers: 1 })
    await engine.start()
    const big = (v: number) => ({
      items: Array.from({ length: 200 }, (_, i) => ({ id: i, price: i === 7 ? v : 1, name: `item ${i}` })),
    })
    const seen: ComparisonRecord[] = []
    engine.onRecord((r) => seen.push(r))
    engine.submit(ex(big(1), big(2)))
    engine.submit(ex(big(1), big(1)))
    await engine.idle()
    expect(seen.map((r) => r.result).sort()).toEqual(['match', 'mismatch'])
    expect(seen.find((r) => r.result === 'mismatch')?.outcome.remaining).toEqual([
      { path: '/items/7/price', field: '/items/*/price', kind: 'changed', legacy: 1, candidate: 2 },
    ])
    await engine.close()
  })

  it('applies new compare settings on reload', async () => {
    const engine = new ComparisonEngine({ config: parseConfig(yaml()), store })
    const seen: string[] = []
    engine.onRecord((r) => seen.push(r.result))
    engine.submit(ex({ a: 1, b: 1 }, { a: 1, b: 2 }))
    await engine.idle()
    engine.reload(parseConfig(yaml("      ignore: ['/b']")))
    engine.submit(ex({ a: 1, b: 1 }, { a: 1, b: 2 }))
    await engine.idle()
    expect(seen).toEqual(['mismatch', 'match'])
    await engine.close()
  })
})
