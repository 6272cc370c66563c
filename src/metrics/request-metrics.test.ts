import { describe, expect, it } from 'vitest'
import { RoutingTable } from '../domain/routing-table.js'
import { createPrometheus } from './prometheus.js'
import { MAX_WINDOW_SAMPLES, RequestMetrics } from './request-metrics.js'

describe('RequestMetrics', () => {
  it('merges one-second buckets of a window per arm and per route', () => {
    const m = new RequestMetrics()
    const t0 = 1_700_000_000_000
    const todos = m.route('api', '/todos/:id')
    const list = m.route('api', '/todos')
    for (let i = 0; i < 100; i++) todos.legacy.record(200, 10, t0 + i * 50) // 5 s of traffic
    for (let i = 0; i < 10; i++) todos.candidate.record(i < 3 ? 503 : 200, 40, t0 + i * 100)
    list.candidate.record(0, 5, t0 + 2000)
    const w = m.window('api', t0, t0 + 10_000)
    expect(w.legacy).toMatchObject({ requests: 100, errors: 0, successes: 100 })
    expect(w.legacy.latency.p95).toBeCloseTo(10, 0)
    expect(w.candidate).toMatchObject({ requests: 11, errors: 4, successes: 7 })
    expect(w.candidate.latency.p50).toBeCloseTo(40, 0)
    expect(w.candidate.samples.length).toBe(11)
    // A window covering only the first second.
    expect(m.window('api', t0, t0 + 1000).legacy.requests).toBe(20)
    const routes = m.routes('api', t0, t0 + 10_000)
    expect(routes.map((r) => [r.route, r.legacy.requests, r.candidate.requests])).toEqual([
      ['/todos/:id', 100, 10],
      ['/todos', 0, 1],
    ])
    expect(m.window('other', t0, t0 + 1000).legacy.requests).toBe(0)
  })

  it('keeps the latency samples of a window bounded', () => {
    const m = new RequestMetrics()
    const s = m.route('api', '/x').legacy
    const t0 = 1_700_000_000_000
    for (let sec = 0; sec < 100; sec++) for (let i = 0; i < 200; i++) s.record(200, i, t0 + sec * 1000)
    const w = m.window('api', t0, t0 + 100_000).legacy
    expect(w.requests).toBe(20_000)
    expect(w.samples.length).toBe(MAX_WINDOW_SAMPLES)
  })

  it('exposes the SPEC metric names in Prometheus text', async () => {
    const metrics = new RequestMetrics()
    const routing = new RoutingTable()
    routing.set('api', { stage: 'canary', weight: 25, activeArm: 'legacy', paused: false })
    const p = createPrometheus({ metrics, routing, systems: () => ['api'], instance: 'host-a:4242:0badcafe' })
    metrics.route('api', '/todos/:id').candidate.record(200, 12, Date.now())
    p.countShadow('api', 'sampled-out')
    p.countShadow('api', 'sampled-out')
    p.shadowTotal.inc({ system: 'api', result: 'match' })
    const { body } = await p.expose()
    expect(body).toContain('tandem_requests_total{system="api",route="/todos/:id",arm="candidate",status="2xx"} 1')
    expect(body).toContain(
      'tandem_request_duration_seconds_bucket{system="api",route="/todos/:id",arm="candidate",le="0.025"} 1',
    )
    expect(body).toContain(
      'tandem_request_duration_seconds_bucket{system="api",route="/todos/:id",arm="candidate",le="0.01"} 0',
    )
    expect(body).toContain('tandem_shadow_total{system="api",result="sampled-out"} 2')
    expect(body).toContain('tandem_shadow_total{system="api",result="match"} 1')
    expect(body).toContain('tandem_rollout_weight{system="api"} 25')
    expect(body).toContain('tandem_stage{system="api",stage="canary"} 1')
    expect(body).toContain('tandem_stage{system="api",stage="shadow"} 0')
    // Each instance's /metrics is its own, and says which instance it is.
    expect(body).toContain('tandem_instance_info{instance="host-a:4242:0badcafe"} 1')
    // Counts accumulate across scrapes.
    p.countShadow('api', 'sampled-out')
    expect((await p.expose()).body).toContain('tandem_shadow_total{system="api",result="sampled-out"} 3')
  })
})
