// Must hold (SPEC 5, custom metrics): a rule on a number only the application exports, read from a real
// Prometheus, rolls back a candidate whose own error counter rises, with the query as run, each arm's
// value and the threshold in the evidence. Also the instant query's answers against that server: a value,
// an empty result, NaN, bad PromQL and an unreachable server, each inconclusive with its code.
import { readdir, readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Counter, Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { customRules, instantQuery, readCustomMetrics } from '../../src/analysis/prometheus-rule.js'
import { getState, listDecisions } from '../../src/store/system-state.js'
import { BASIC_AUTH, startPrometheus, type PrometheusServer } from '../support/prometheus.js'
import { buildConfig, HALF_CANARY, system, tandemConfig } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { startRollout, type RolloutStack } from '../support/instance.js'
import { trafficUntil } from '../support/loopback.js'

/** The application's own counters, as its /metrics would expose them: errors the gateway never sees. */
const errors = { legacy: () => 0, candidate: () => 0 }
let exporter: Server
let prometheus: PrometheusServer

beforeAll(async () => {
  const registry = new Registry()
  const counter = new Counter({
    name: 'app_errors_total',
    help: 'errors the application logged, per deployment',
    labelNames: ['system', 'arm'],
    registers: [registry],
    collect() {
      this.reset()
      this.inc({ system: 'orders', arm: 'legacy' }, errors.legacy())
      this.inc({ system: 'orders', arm: 'candidate' }, errors.candidate())
    },
  })
  void counter
  exporter = createServer((_req, res) => {
    void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text))
  })
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r))
  prometheus = await startPrometheus([`127.0.0.1:${(exporter.address() as AddressInfo).port}`])
  await prometheus.scraped()
}, 60_000)

afterAll(async () => {
  await prometheus?.stop()
  await new Promise((r) => exporter?.close(r))
})

const query = 'sum(max_over_time(app_errors_total{system="{{system}}",arm="{{arm}}"}[{{interval}}]))'

describe('a Prometheus-backed rule', () => {
  let h: RolloutStack | undefined
  afterAll(async () => h?.close())

  const name = 'rolls back a candidate whose own exported error counter rises, with query, values and threshold'
  it(name, { timeout: 120_000 }, async () => {
    h = await startRollout((legacy, candidate) => ({
      systems: [
        system('orders', {
          legacy,
          candidate,
          rollout: { steps: HALF_CANARY },
          analysis: {
            interval: '2s',
            minSamples: 5,
            metrics: [{ name: 'appErrors', prometheus: { url: prometheus.url, query }, rollback: '> 2x' }],
          },
        }),
      ],
    }))
    const harness = h
    // Legacy logs an error now and then; the candidate one per request it serves.
    errors.legacy = () => 1 + Math.floor(harness.legacy.served() / 50)
    errors.candidate = () => harness.candidate.served()
    await harness.controller.act('orders', 'start', { actor: 'alice', force: true })
    const rolledBack = async () => (await getState(harness.store, 'orders')).stage === 'rolled-back'
    await trafficUntil(harness.gatewayUrl, rolledBack, { concurrency: 2, pauseMs: 5, maxRequests: 100_000 })
    expect(await getState(harness.store, 'orders')).toMatchObject({ stage: 'rolled-back', activeArm: 'legacy' })

    const rollback = (await listDecisions(harness.store, 'orders')).find((d) => d.action === 'rollback')!
    expect(rollback.actor).toBe('controller')
    expect(rollback.reason).toContain('appErrors')
    const evidence = rollback.evidence as {
      rules: Array<{ rule: string; value: number; baseline: number; limit: number; values: Record<string, number> }>
    }
    const rule = evidence.rules.find((r) => r.rule === 'rollback.appErrors')!
    expect(rule).toMatchObject({
      metric: 'appErrors',
      threshold: '> 2x',
      result: 'fail',
      source: prometheus.url,
      query: {
        legacy: 'sum(max_over_time(app_errors_total{system="orders",arm="legacy"}[2s]))',
        candidate: 'sum(max_over_time(app_errors_total{system="orders",arm="candidate"}[2s]))',
      },
    })
    expect(rule.values.candidate).toBe(rule.value)
    expect(rule.values.legacy).toBe(rule.baseline)
    expect(rule.limit).toBe(2 * rule.baseline)
    expect(rule.value).toBeGreaterThan(rule.limit)

    // The failure report carries the same evidence.
    const dir = join(harness.dir, 'failures')
    const files = await eventually(async () => {
      const found = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.json'))
      if (found.length === 0) throw new Error('no failure report yet')
      return found
    })
    const report = JSON.parse(await readFile(join(dir, files[0]!), 'utf8'))
    const reported = expect.objectContaining({ rule: 'rollback.appErrors', result: 'fail' })
    expect(report.evidence.rules).toEqual(expect.arrayContaining([reported]))
  })
})

describe('the instant query', () => {
  const target = (url: string) => ({ url, metric: 'appErrors', arm: 'candidate' as const, timeout: 5000 })

  it('reads a scalar and a single series', async () => {
    expect(await instantQuery(target(prometheus.url), 'scalar(vector(0.25))', Date.now())).toBe(0.25)
    expect(await instantQuery(target(`${prometheus.url}/`), 'sum(up{job="app"})', Date.now())).toBe(1)
  })

  it('gives no value for an empty result, NaN or several series, with TANDEM_ERR_PROMETHEUS_NO_VALUE', async () => {
    for (const q of ['sum(no_such_metric_total)', 'vector(0) / vector(0)', 'app_errors_total']) {
      const none = { code: 'TANDEM_ERR_PROMETHEUS_NO_VALUE' }
      await expect(instantQuery(target(prometheus.url), q, Date.now())).rejects.toMatchObject(none)
    }
  })

  it('refuses bad PromQL with TANDEM_ERR_PROMETHEUS_QUERY, and says when the server does not answer', async () => {
    const refused = { code: 'TANDEM_ERR_PROMETHEUS_QUERY' }
    await expect(instantQuery(target(prometheus.url), 'sum(', Date.now())).rejects.toMatchObject(refused)
    const unreachable = { code: 'TANDEM_ERR_PROMETHEUS_UNREACHABLE' }
    await expect(instantQuery(target('http://127.0.0.1:9'), 'vector(1)', Date.now())).rejects.toMatchObject(unreachable)
  })

  it('sends the credentials of the URL as basic auth, and a refusal says so', async () => {
    const guarded = await startPrometheus([], { basicAuth: true })
    try {
      const [host] = guarded.url.slice('http://'.length).split('/')
      const withCredentials = `http://${BASIC_AUTH.user}:${encodeURIComponent(BASIC_AUTH.password)}@${host}`
      expect(await instantQuery(target(withCredentials), 'scalar(vector(3))', Date.now())).toBe(3)
      const refused = instantQuery(target(guarded.url), 'scalar(vector(3))', Date.now())
      const unauthorized = { code: 'TANDEM_ERR_PROMETHEUS_QUERY', message: expect.stringContaining('401') }
      await expect(refused).rejects.toMatchObject(unauthorized)
    } finally {
      await guarded.stop()
    }
  })

  it('keeps credentials out of the evidence and the errors', async () => {
    const secretUrl = `http://ops:S3cretPw@127.0.0.1:9/prom?token=Tok-9f2`
    const appErrors = {
      name: 'appErrors',
      prometheus: { url: secretUrl, query: 'vector(1)', timeout: '2s' },
      rollback: '> 0.01',
    }
    const config = buildConfig(tandemConfig({ systems: [system('orders', { analysis: { metrics: [appErrors] } })] }))
    const [reading] = await readCustomMetrics(config.systems[0]!, Date.now())
    expect(reading!.candidate).toMatchObject({ value: null, error: { code: 'TANDEM_ERR_PROMETHEUS_UNREACHABLE' } })
    const rules = customRules([reading!], { start: 0, end: 1 }, new Set(), { legacy: 0, candidate: 0 })
    expect(rules[0]).toMatchObject({ result: 'inconclusive', source: 'http://ops:***@127.0.0.1:9/prom?token=***' })
    const text = JSON.stringify(rules) + reading!.candidate.error!.message
    expect(text).not.toContain('S3cretPw')
    expect(text).not.toContain('Tok-9f2')
  })
})
