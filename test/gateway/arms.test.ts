// Arm choice through the real gateway: the canary split by sticky bucket, blue-green switches under
// load, POST mirroring only with unsafeMethods, upstream failure answers and fallbackToLegacy.
import { Pool, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CountingSink } from '../../src/gateway/counting-sink.js'
import { system, tandemConfig } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { deadUrl, origin, promValue, type Origin } from '../support/loopback.js'

describe('arm choice and mirroring through the gateway', () => {
  let legacy: Origin
  let candidate: Origin
  let tandem: TestInstance
  let client: Pool

  beforeAll(async () => {
    const answer =
      (arm: string) =>
      (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, body: Buffer) => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-arm': arm })
        res.end(
          JSON.stringify({
            arm,
            method: req.method,
            shadow: req.headers['x-tandem-shadow'] ?? null,
            body: body.toString(),
          }),
        )
      }
    legacy = await origin(answer('legacy'))
    candidate = await origin(answer('candidate'))
    const down = await deadUrl()
    const on = (prefix: string) => ({
      legacy: legacy.url,
      candidate: candidate.url,
      routes: [{ path: `/${prefix}/**` }],
    })
    tandem = await buildInstance(
      tandemConfig({
        systems: [
          system('split', { ...on('split'), rollout: { stickiness: 'header:x-user-id' } }),
          system('colours', { ...on('colours'), rollout: { strategy: 'blue-green' } }),
          system('safe', on('safe')),
          system('unsafe', { ...on('unsafe'), shadow: { unsafeMethods: true } }),
          system('gone', { ...on('gone'), candidate: down, rollout: { fallbackToLegacy: true } }),
          system('gone-strict', { ...on('strict'), legacy: down, candidate: down }),
        ],
      }),
    )
    client = new Pool(tandem.instance.gatewayUrl, { connections: 16 })
  })

  afterAll(async () => {
    await client?.close()
    await tandem?.close()
    await Promise.all([legacy?.close(), candidate?.close()])
  })

  async function armOf(path: string, headers: Record<string, string> = {}): Promise<string> {
    const res = await client.request({ path, method: 'GET', headers })
    await res.body.dump()
    return res.headers['x-arm'] as string
  }

  /** Run `fn` over `items` with `width` concurrent workers. */
  async function each<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0
    await Promise.all(
      Array.from({ length: width }, async () => {
        while (next < items.length) await fn(items[next++]!)
      }),
    )
  }

  it(
    'weight 25 by header:x-user-id splits 10 000 users 25 ' + '% +- 2 %, sticky, and raising to 50 moves no one back',
    async () => {
      tandem.instance.routing.set('split', { stage: 'canary', weight: 25, activeArm: 'legacy', paused: false })
      const users = Array.from({ length: 10_000 }, (_, i) => `user-${i}`)
      const first = new Map<string, string>()
      await each(users, 16, async (u) => void first.set(u, await armOf('/split/x', { 'x-user-id': u })))
      const share = [...first.values()].filter((a) => a === 'candidate').length / users.length
      expect(share).toBeGreaterThanOrEqual(0.23)
      expect(share).toBeLessThanOrEqual(0.27)
      // Sticky: a second pass over a sample of users gives each the same arm.
      const sample = users.filter((_, i) => i % 10 === 0)
      await each(sample, 16, async (u) => expect(await armOf('/split/x', { 'x-user-id': u })).toBe(first.get(u)))
      tandem.instance.routing.set('split', { stage: 'canary', weight: 50, activeArm: 'legacy', paused: false })
      const second = new Map<string, string>()
      await each(users, 16, async (u) => void second.set(u, await armOf('/split/x', { 'x-user-id': u })))
      const movedBack = users.filter((u) => first.get(u) === 'candidate' && second.get(u) === 'legacy')
      expect(movedBack).toEqual([])
      const share50 = [...second.values()].filter((a) => a === 'candidate').length / users.length
      expect(share50).toBeGreaterThanOrEqual(0.48)
      expect(share50).toBeLessThanOrEqual(0.52)
    },
    300_000,
  ) // 21 000 requests on two shared cores: generous, never a timing assertion

  it('a blue-green switch under continuous load fails no request', async () => {
    tandem.instance.routing.set('colours', { stage: 'canary', weight: 0, activeArm: 'legacy', paused: false })
    const seen = { legacy: 0, candidate: 0 }
    const failures: string[] = []
    let done = 0
    const total = 3000
    const load = each(
      Array.from({ length: total }, (_, i) => i),
      12,
      async () => {
        try {
          const res = await client.request({ path: '/colours/item', method: 'GET' })
          const body = (await res.body.json()) as { arm: 'legacy' | 'candidate' }
          if (res.statusCode !== 200) failures.push(`status ${res.statusCode}`)
          else seen[body.arm]++
        } catch (error) {
          failures.push(String(error))
        }
        done++
      },
    )
    // Switch colours back and forth while the load runs (bounded: it ends with the load).
    let switches = 0
    while (done < total) {
      await new Promise((r) => setTimeout(r, 20))
      const next = switches % 2 === 0 ? 'candidate' : 'legacy'
      tandem.instance.routing.set('colours', { stage: 'canary', weight: 0, activeArm: next, paused: false })
      switches++
    }
    await load
    expect(failures).toEqual([])
    expect(seen.legacy + seen.candidate).toBe(total)
    expect(switches).toBeGreaterThan(1)
    expect(seen.candidate).toBeGreaterThan(0)
    expect(seen.legacy).toBeGreaterThan(0)
  })

  it('POST is not mirrored without unsafeMethods: true, and is mirrored with its body when it is set', async () => {
    for (const s of ['safe', 'unsafe'])
      tandem.instance.routing.set(s, { stage: 'shadow', weight: 0, activeArm: 'legacy', paused: false })
    const before = candidate.requests.length
    for (let i = 0; i < 3; i++) {
      const res = await client.request({
        path: '/safe/things',
        method: 'POST',
        body: `{"n":${i}}`,
        headers: { 'content-type': 'application/json' },
      })
      expect((await res.body.json()) as object).toMatchObject({ arm: 'legacy', method: 'POST' })
    }
    expect(
      await eventually(
        () => promValue(tandem.instance.adminUrl, 'tandem_shadow_total', { system: 'safe', result: 'unsafe-method' }),
        { until: (n) => n >= 3 },
      ),
    ).toBe(3)
    expect(candidate.requests.slice(before).filter((r) => r.url?.startsWith('/safe'))).toEqual([])

    const res = await client.request({
      path: '/unsafe/things',
      method: 'POST',
      body: '{"n":42}',
      headers: { 'content-type': 'application/json' },
    })
    expect((await res.body.json()) as object).toMatchObject({ arm: 'legacy' })
    const sink = tandem.instance.comparisons as CountingSink
    const exchange = await eventually(async () => sink.recent.find((e) => e.system === 'unsafe'), {
      until: (e) => e !== undefined,
    })
    expect(exchange!.request.body?.toString()).toBe('{"n":42}')
    expect(exchange!.candidate.ok && JSON.parse(exchange!.candidate.body.toString())).toMatchObject({
      arm: 'candidate',
      method: 'POST',
      shadow: '1',
      body: '{"n":42}',
    })
    expect(exchange!.legacy.ok && exchange!.legacy.status).toBe(200)
    expect(
      await promValue(tandem.instance.adminUrl, 'tandem_shadow_total', { system: 'unsafe', result: 'mirrored' }),
    ).toBe(1)
  })

  it('a candidate that cannot be reached falls back to legacy for idempotent requests', async () => {
    tandem.instance.routing.set('gone', { stage: 'promoted', weight: 100, activeArm: 'candidate', paused: false })
    expect(await armOf('/gone/item')).toBe('legacy')
    const post = await client.request({ path: '/gone/item', method: 'POST', body: 'x' })
    expect(post.statusCode).toBe(502)
    expect(await post.body.json()).toMatchObject({ code: 'TANDEM_ERR_UPSTREAM_CONNECT' })
  })

  it('an unreachable upstream answers 502 and an unmatched path 404, both with a coded JSON body', async () => {
    const res = await client.request({ path: '/strict/a', method: 'GET' })
    expect(res.statusCode).toBe(502)
    expect(await res.body.json()).toMatchObject({ code: 'TANDEM_ERR_UPSTREAM_CONNECT' })
    const none = await request(`${tandem.instance.gatewayUrl}/nowhere`)
    expect(none.statusCode).toBe(404)
    expect(await none.body.json()).toMatchObject({ code: 'TANDEM_ERR_NO_ROUTE' })
  })
})
