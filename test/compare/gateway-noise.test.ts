// End to end through the gateway in shadow mode: two legacy instances whose answers carry a random id
// and a timestamp, and a candidate that adds a field in 10 % of answers and changes a value in another
// 10 %. The id and timestamp must come out as noise, the two candidate changes as real, with the right
// counts, as `tandem diffs --json` prints them; and no secret of the requests may reach the store.
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tandem } from '../support/cli.js'
import { system, tandemConfig } from '../support/config.js'
import { buildInstance } from '../support/instance.js'
import type { ComparisonEngine } from '../../src/compare/engine.js'
import type { Instance } from '../../src/instance/create-instance.js'

const N = 200

type Kind = 'legacy' | 'candidate'

/** An origin on loopback answering GET /items/:n with JSON; POST /login echoes a token in a cookie. */
async function origin(kind: Kind): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const n = Number(/\/items\/(\d+)/.exec(req.url ?? '')?.[1] ?? -1)
      const body: Record<string, unknown> = {
        id: randomUUID(),
        // A high-resolution timestamp, as Python's isoformat() gives: two answers never share one.
        ts: `${new Date().toISOString().slice(0, 23)}${String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0')}Z`,
        item: { n, name: `item ${n}`, price: 10 },
        password: 'RESPONSE-PASSWORD-SECRET',
      }
      if (kind === 'candidate' && n % 10 === 3) body.discount = 0
      if (kind === 'candidate' && n % 10 === 7) (body.item as { price: number }).price = 11
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'session=SET-COOKIE-SECRET; HttpOnly' })
      res.end(JSON.stringify(body))
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

let dir: string
let configFile: string
let servers: Server[] = []
let instance: Instance | undefined
let storeText = ''
let metricsText = ''

beforeAll(async () => {
  const [legacy, secondary, candidate] = await Promise.all([origin('legacy'), origin('legacy'), origin('candidate')])
  servers = [legacy.server, secondary.server, candidate.server]
  const shop = system('shop', {
    legacy: { url: legacy.url, secondary: secondary.url },
    candidate: candidate.url,
    routes: [{ path: '/items/:n', methods: ['GET'] }],
    shadow: { timeout: '10s', maxInFlight: 1024 },
    compare: { samplesPerField: 3 },
  })
  // With the comparison engine `tandem up` runs.
  const built = await buildInstance(tandemConfig({ systems: [shop] }), { comparisons: {} })
  dir = built.dir
  configFile = built.configFile
  instance = built.instance
  instance.routing.set('shop', { stage: 'shadow', weight: 0, activeArm: 'legacy', paused: false })
  const engine = instance.comparisons as unknown as ComparisonEngine
  let recorded = 0
  const all = new Promise<void>((resolve) =>
    engine.onRecord(() => {
      if (++recorded === N) resolve()
    }),
  )
  // Ten clients at a time, each request carrying credentials that must never be stored.
  for (let start = 0; start < N; start += 10) {
    await Promise.all(
      Array.from({ length: 10 }, async (_, k) => {
        const res = await request(`${instance!.gatewayUrl}/items/${start + k}`, {
          headers: { authorization: 'Bearer AUTH-HEADER-SECRET', cookie: 'sid=COOKIE-HEADER-SECRET' },
        })
        expect(res.statusCode).toBe(200)
        await res.body.text()
      }),
    )
  }
  await all
  const metrics = await request(`${instance.adminUrl}/metrics`)
  metricsText = await metrics.body.text()
  await instance.close()
  instance = undefined

  const { openStore } = await import('../../src/store/open.js')
  const store = await openStore(`sqlite:${join(dir, 'tandem.db')}`)
  for (const t of ['compare_routes', 'compare_fields', 'compare_samples', 'compare_windows'] as const) {
    storeText += JSON.stringify(await store.db.selectFrom(t).selectAll().execute())
  }
  await store.close()
}, 180_000)

afterAll(async () => {
  await instance?.close()
  for (const s of servers) {
    s.closeAllConnections()
    s.close()
  }
})

describe('comparison through the gateway', () => {
  it('reports the id and timestamp as noise and the candidate changes as real, with their counts', async () => {
    const out = await tandem(['diffs', 'shop', '--json', '-c', configFile])
    expect(out.code).toBe(1)
    const report = JSON.parse(out.stdout)
    expect(report.system).toBe('shop')
    const route = report.routes.find((r: { route: string }) => r.route === '/items/:n')
    expect(route).toMatchObject({
      compared: N,
      skipped: 0,
      candidateErrors: 0,
      matches: 0,
      mismatches: 2 * (N / 10),
      noiseOnly: N - 2 * (N / 10),
    })
    const field = (path: string) => route.fields.find((f: { path: string }) => f.path === path)

    expect(field('/discount')).toMatchObject({ kind: 'added', raw: N / 10, noise: 0, real: true })
    expect(field('/item/price')).toMatchObject({ kind: 'changed', raw: N / 10, noise: 0, real: true })
    expect(field('/id')).toMatchObject({ kind: 'changed', raw: N, noise: N, real: false })
    expect(field('/ts')).toMatchObject({ kind: 'changed', raw: N, noise: N, real: false })
    expect(route.fields).toHaveLength(4)
    // Real differences come first, and each carries samples with both responses.
    expect(
      route.fields
        .slice(0, 2)
        .map((f: { path: string }) => f.path)
        .sort(),
    ).toEqual(['/discount', '/item/price'])
    const sample = field('/item/price').samples[0]
    expect(sample.legacy.body.item.price).toBe(10)
    expect(sample.candidate.body.item.price).toBe(11)
    expect(sample.request).toMatchObject({ method: 'GET' })
  })

  it('counts comparison results in tandem_shadow_total', () => {
    expect(metricsText).toMatch(
      new RegExp(`tandem_shadow_total\\{system="shop",result="mismatch"\\} ${2 * (N / 10)}\\b`),
    )
    expect(metricsText).toMatch(
      new RegExp(`tandem_shadow_total\\{system="shop",result="noise-only"\\} ${N - 2 * (N / 10)}\\b`),
    )
  })

  it('stores no credential, cookie or password from requests or responses', () => {
    expect(storeText).toContain('[redacted]')
    for (const secret of [
      'AUTH-HEADER-SECRET',
      'COOKIE-HEADER-SECRET',
      'SET-COOKIE-SECRET',
      'RESPONSE-PASSWORD-SECRET',
    ]) {
      expect(storeText).not.toContain(secret)
    }
  })
})
