// The gateway's diagnostics channels feed the metrics of the instance that subscribed, and only it:
// two real gateways in one process, a real origin on loopback, shadow mode (a mirror per request).
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import { RoutingTable } from '../domain/routing-table.js'
import { CountingSink } from '../gateway/counting-sink.js'
import { channels } from '../gateway/diagnostics.js'
import { Gateway } from '../gateway/gateway.js'
import { subscribeToGateway } from './gateway-subscriber.js'
import { createPrometheus } from './prometheus.js'
import { RequestMetrics } from './request-metrics.js'

interface Running {
  readonly gateway: Gateway
  readonly sink: CountingSink
  readonly metrics: RequestMetrics
  readonly url: string
  readonly prometheus: ReturnType<typeof createPrometheus>
  unsubscribe(): void
}

describe('metrics subscribed to the gateway channels', () => {
  let origin: Server
  let originUrl: string
  const running: Running[] = []

  async function start(): Promise<Running> {
    const config = parseConfig(`version: 1
systems:
  - name: api
    legacy: { url: ${originUrl} }
    candidate: { url: ${originUrl} }
    routes: [{ path: /todos/:id }, { path: /users/** }]
`)
    const routing = new RoutingTable()
    routing.set('api', { stage: 'shadow', weight: 0, activeArm: 'legacy', paused: false })
    const sink = new CountingSink()
    const gateway = new Gateway({ routing, sink })
    const metrics = new RequestMetrics()
    const prometheus = createPrometheus({ metrics, routing, systems: () => gateway.systems })
    const unsubscribe = subscribeToGateway(gateway, metrics, prometheus)
    await gateway.apply(config)
    const { port } = await gateway.listen('127.0.0.1:0', 16 * 1024)
    const r = { gateway, sink, metrics, prometheus, url: `http://127.0.0.1:${port}`, unsubscribe }
    running.push(r)
    return r
  }

  async function get(r: Running, path: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      const res = await request(`${r.url}${path}`)
      expect(res.statusCode).toBe(200)
      await res.body.text()
    }
  }

  /** Wait (bounded) until every mirror of `r` has reached its sink. */
  async function mirrored(r: Running, n: number): Promise<void> {
    for (let i = 0; i < 200 && r.sink.submitted < n; i++) await new Promise((done) => setTimeout(done, 25))
    expect(r.sink.submitted).toBe(n)
  }

  beforeAll(async () => {
    origin = createServer((_req, res) => res.end('{"ok":true}'))
    origin.listen(0, '127.0.0.1')
    await once(origin, 'listening')
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    for (const r of running) {
      r.unsubscribe()
      await r.gateway.close(1000)
    }
    origin.closeAllConnections()
    await new Promise((done) => origin.close(done))
  })

  it('records requests, mirrors and shadow outcomes of its own gateway only', async () => {
    const a = await start()
    const b = await start()
    // The applied plan gives every configured route a series, in config order, before any request.
    const since = Date.now() - 1000
    expect(a.metrics.routes('api', since, Date.now() + 1000).map((r) => r.route)).toEqual(['/todos/:id', '/users/**'])

    await get(a, '/todos/1', 5)
    await get(b, '/users/7/orders', 2)
    await mirrored(a, 5)
    await mirrored(b, 2)
    const until = Date.now() + 1000
    const byRoute = (m: RequestMetrics) =>
      m.routes('api', since, until).map((r) => [r.route, r.legacy.requests, r.candidate.requests])
    // Served by legacy, mirrored to the candidate: one call each per request.
    expect(byRoute(a.metrics)).toEqual([
      ['/todos/:id', 5, 5],
      ['/users/**', 0, 0],
    ])
    expect(byRoute(b.metrics)).toEqual([
      ['/todos/:id', 0, 0],
      ['/users/**', 2, 2],
    ])
    expect((await a.prometheus.expose()).body).toContain('tandem_shadow_total{system="api",result="mirrored"} 5')
    expect((await b.prometheus.expose()).body).toContain('tandem_shadow_total{system="api",result="mirrored"} 2')
  })

  it('stops recording once unsubscribed; the gateway keeps serving without listeners', async () => {
    const c = await start()
    const since = Date.now() - 1000
    c.unsubscribe()
    await get(c, '/todos/2', 3)
    await mirrored(c, 3)
    expect(c.metrics.window('api', since, Date.now() + 1000).legacy.requests).toBe(0)
    // The others still listen; with every subscriber gone the channels report none.
    for (const r of running) r.unsubscribe()
    const listened = [channels.plan, channels.request, channels.mirror, channels.shadow].map((ch) => ch.hasSubscribers)
    expect(listened).toEqual([false, false, false, false])
    await get(c, '/todos/3', 1)
  })
})
