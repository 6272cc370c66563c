// The read endpoints over real store rows: the systems list and detail in the shape the CLI uses,
// verdicts with evidence, diffs with the SPEC 4 noise rule and samples, metrics, report and audit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeHistogram, newHistogram } from '../../src/metrics/histogram.js'
import { recordDecision } from '../../src/store/system-state.js'
import { call, FIXED_LATENCY_MS, startAdmin, TOKENS, type AdminHarness } from './harness.js'

/** A field of a route's diff summary, as far as these tests read it. */
interface DiffField {
  path: string
  real: boolean
  samples: Array<{ candidate: { body: { title: string } } }>
}

describe('admin read API', () => {
  let h: AdminHarness
  const t0 = 1_700_000_000_000
  const allLegacy = newHistogram()
  beforeAll(async () => {
    h = await startAdmin()
    const db = h.store.db
    await recordDecision(
      h.store,
      'todo-api',
      0,
      { stage: 'shadow', stepIndex: 0 },
      { action: 'start', actor: 'otto', reason: 'go' },
      t0,
    )
    await recordDecision(
      h.store,
      'todo-api',
      1,
      { stage: 'canary', stepIndex: 1, weight: 5 },
      { action: 'advance', actor: 'controller', reason: 'pause elapsed' },
      t0 + 1000,
    )
    await db
      .insertInto('verdicts')
      .values({
        system: 'todo-api',
        at: t0 + 2000,
        stage: 'canary',
        step_index: 1,
        weight: 5,
        verdict: 'fail',
        judge: 'threshold',
        score: null,
        window_start: t0,
        window_end: t0 + 2000,
        evidence: JSON.stringify([{ metric: 'errorRate', value: 0.1, threshold: '> 0.05', result: 'fail' }]),
      })
      .execute()
    await db
      .insertInto('compare_routes')
      .values({
        system: 'todo-api',
        route: '/todos/:id',
        compared: 10000,
        matches: 9000,
        mismatches: 900,
        noise_only: 50,
        skipped: 50,
        candidate_errors: 0,
        updated_at: t0,
      })
      .execute()
    // real: 500 vs 10 noise; noise-dominated: 100 vs 95; tiny: 2 vs 0 out of 10000 (below absolute 0.0003)
    for (const [path, raw, noise] of [
      ['/title', 500, 10],
      ['/etag', 100, 95],
      ['/rare', 2, 0],
    ] as const) {
      await db
        .insertInto('compare_fields')
        .values({
          system: 'todo-api',
          route: '/todos/:id',
          path,
          kind: 'changed',
          raw,
          noise,
          total: 10000,
          updated_at: t0,
        })
        .execute()
    }
    for (let i = 0; i < 3; i += 1) {
      const sample = {
        request: { method: 'GET', path: `/todos/${i}` },
        legacy: { status: 200, body: { title: 'a' } },
        candidate: { status: 200, body: { title: `b${i}` } },
      }
      await db
        .insertInto('compare_samples')
        .values({ system: 'todo-api', route: '/todos/:id', path: '/title', at: t0 + i, sample: JSON.stringify(sample) })
        .execute()
    }
    await db
      .insertInto('metric_windows')
      .values([
        {
          system: 'todo-api',
          route: '/a',
          arm: 'legacy',
          window_start: t0,
          window_end: t0 + 10_000,
          requests: 30,
          errors: 3,
          successes: 27,
          p50_ms: 10,
          p95_ms: 20,
          p99_ms: 30,
          mean_ms: 12,
        },
        {
          system: 'todo-api',
          route: '/b',
          arm: 'legacy',
          window_start: t0,
          window_end: t0 + 10_000,
          requests: 10,
          errors: 1,
          successes: 9,
          p50_ms: 50,
          p95_ms: 60,
          p99_ms: 70,
          mean_ms: 52,
        },
        {
          system: 'todo-api',
          route: '/a',
          arm: 'candidate',
          window_start: t0,
          window_end: t0 + 10_000,
          requests: 5,
          errors: 0,
          successes: 5,
          p50_ms: 8,
          p95_ms: 9,
          p99_ms: 10,
          mean_ms: 8,
        },
      ])
      .execute()
    // What two instances wrote for the same second (metric_seconds): their histograms are merged.
    const seconds: Array<[string, string, 'legacy' | 'candidate', number[], number]> = [
      ['host:1:a', '/a', 'legacy', Array.from({ length: 30 }, (_, i) => 10_000 + i * 500), 3],
      ['host:2:b', '/b', 'legacy', Array.from({ length: 10 }, (_, i) => 50_000 + i * 1000), 1],
      ['host:1:a', '/a', 'candidate', [8000, 8000, 8000, 9000, 10_000], 0],
    ]
    for (const [instance, route, arm, micros, errors] of seconds) {
      const histogram = newHistogram()
      for (const v of micros) {
        histogram.recordValue(v)
        if (arm === 'legacy') allLegacy.recordValue(v)
      }
      const zero = { matches: 0, mismatches: 0, noise_only: 0, skipped: 0, candidate_errors: 0 }
      const row = {
        instance,
        system: 'todo-api',
        route,
        arm,
        second: t0 / 1000,
        requests: micros.length,
        errors,
        successes: micros.length - errors,
      }
      await db
        .insertInto('metric_seconds')
        .values({ ...row, histogram: encodeHistogram(histogram), ...zero })
        .execute()
    }
  })
  afterAll(async () => h?.close())

  const get = (path: string) => call(h.url, 'GET', path, { token: TOKENS.viewer })

  it('lists systems with stage, weight, wave and hold reason in the CLI contract shape', async () => {
    const res = await get('/api/v1/systems')
    expect(res.status).toBe(200)
    expect(res.body.systems).toEqual([
      {
        name: 'todo-api',
        kind: 'http',
        category: 'api',
        priority: 'P0',
        wave: 'pilot',
        stage: 'canary',
        weight: 5,
        stepIndex: 1,
        paused: false,
        activeArm: 'legacy',
        holdReason: null,
      },
      {
        name: 'billing',
        kind: 'http',
        category: 'data-processing',
        priority: 'P1',
        wave: 'main',
        stage: 'pending',
        weight: 0,
        stepIndex: -1,
        paused: false,
        activeArm: 'legacy',
        holdReason: 'wave main is closed: waiting for todo-api (pilot, canary) to be promoted or completed',
      },
    ])
  })

  it('gives a system detail with steps, verdicts with evidence and decisions', async () => {
    const res = await get('/api/v1/systems/todo-api')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ name: 'todo-api', stage: 'canary', weight: 5 })
    expect(res.body.steps).toHaveLength(5)
    expect(res.body.steps[1]).toMatchObject({ kind: 'weight', weight: 5 })
    expect(res.body.verdicts[0]).toMatchObject({
      verdict: 'fail',
      windowStart: t0,
      evidence: [{ metric: 'errorRate', value: 0.1 }],
    })
    expect(res.body.decisions.map((d: { action: string }) => d.action)).toEqual(['start', 'advance'])
    expect((await get('/api/v1/systems/nope')).body.code).toBe('TANDEM_ERR_SYSTEM_NOT_FOUND')
    expect((await get('/api/v1/systems/Bad_Name')).status).toBe(400)
  })

  it('lists decisions and verdicts, filtered by system', async () => {
    expect((await get('/api/v1/decisions?system=todo-api')).body.decisions).toHaveLength(2)
    expect((await get('/api/v1/decisions?system=billing')).body.decisions).toHaveLength(0)
    expect((await get('/api/v1/systems/todo-api/decisions?limit=1')).body.decisions[0].action).toBe('advance')
    expect((await get('/api/v1/verdicts')).body.verdicts).toHaveLength(1)
    expect((await get('/api/v1/systems/billing/verdicts')).body.verdicts).toHaveLength(0)
  })

  it('reports diffs per route with the noise rule and at most samplesPerField samples', async () => {
    const res = await get('/api/v1/systems/todo-api/diffs')
    expect(res.status).toBe(200)
    const [route] = res.body.routes
    expect(route).toMatchObject({ route: '/todos/:id', compared: 10000, matches: 9000, mismatches: 900, skipped: 50 })
    const byPath = Object.fromEntries(route.fields.map((f: DiffField) => [f.path, f]))
    expect(byPath['/title']).toMatchObject({ kind: 'changed', raw: 500, noise: 10, real: true })
    expect(byPath['/etag'].real).toBe(false)
    expect(byPath['/rare'].real).toBe(false)
    expect(byPath['/title'].samples).toHaveLength(2)
    expect(byPath['/title'].samples[0].candidate.body.title).toBe('b2')
    expect(byPath['/etag'].samples).toEqual([])
  })

  it('serves stored metric windows merged across instances and routes, and live windows from the reader', async () => {
    const stored = await get(`/api/v1/systems/todo-api/metrics?source=stored&since=${t0 - 1}&until=${t0 + 20_000}`)
    expect(stored.status).toBe(200)
    const [w] = stored.body.windows
    expect(w.legacy).toMatchObject({ requests: 40, errors: 4, errorRate: 0.1 })
    // Percentiles of the merged histograms: exactly those of one histogram fed with every request.
    expect(w.legacy.p95).toBe(allLegacy.getValueAtPercentile(95) / 1000)
    expect(w.legacy.p50).toBe(allLegacy.getValueAtPercentile(50) / 1000)
    expect(w.candidate).toMatchObject({ requests: 5, errorRate: 0 })
    const live = await get('/api/v1/systems/todo-api/metrics?source=live&since=0&until=60000&step=10000')
    expect(live.body.windows).toHaveLength(6)
    // The gateway's own seconds, from memory: p95 as a histogram holding the candidate's 50 latencies answers.
    const candidate = newHistogram()
    candidate.recordValue(FIXED_LATENCY_MS.candidate * 1000)
    const p95 = candidate.getValueAtPercentile(95) / 1000
    expect(p95).toBeCloseTo(FIXED_LATENCY_MS.candidate, 0)
    expect(live.body.windows[0].candidate).toMatchObject({ requests: 50, errors: 5, errorRate: 0.1, p95 })
  })

  it('reports program KPIs and waves', async () => {
    const res = await get('/api/v1/report')
    expect(res.status).toBe(200)
    expect(res.body.kpis.systemsTotal).toBe(2)
    expect(res.body.kpis.systemsMigrated).toBe(0)
    expect(res.body.waves.map((w: { name: string }) => w.name)).toEqual(['pilot', 'main'])
    const waves = await get('/api/v1/waves')
    expect(waves.body.waves[0]).toMatchObject({ name: 'pilot', systems: ['todo-api'], open: true })
    expect(waves.body.waves[1].open).toBe(false)
  })

  it('rejects query parameters outside their schema with a coded 400', async () => {
    const res = await get('/api/v1/audit?limit=0')
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('TANDEM_ERR_BAD_REQUEST')
    const body = await call(h.url, 'POST', '/api/v1/systems/todo-api/actions/pause', {
      token: TOKENS.operator,
      body: { force: 'yes' },
    })
    expect(body.status).toBe(400)
  })
})
