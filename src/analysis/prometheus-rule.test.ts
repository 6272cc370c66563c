import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import { TandemError } from '../errors.js'
import type { ArmWindow } from '../metrics/reader.js'
import { customRules, promDuration, renderQuery, type CustomReading } from './prometheus-rule.js'
import { analyse } from './verdict.js'

function system(metrics: string, extra = '') {
  return parseConfig(`version: 1
systems:
  - name: orders
    legacy: { url: http://127.0.0.1:9001 }
    candidate: { url: http://127.0.0.1:9002 }
    routes: [{ path: /** }]
    analysis:
      interval: 10s
      minSamples: 5
${extra}      metrics:
${metrics}`).systems[0]!
}

const metric = (thresholds: string) =>
  system(`        - name: appErrors
          prometheus:
            url: http://prom:9090
            query: 'sum(rate(errors{app="{{system}}",arm="{{arm}}"}[{{interval}}]))'
          ${thresholds}
`).analysis.metrics[0]!

const reading = (m: ReturnType<typeof metric>, legacy: number | null, candidate: number | null): CustomReading => ({
  metric: m,
  legacy: {
    query: 'q-legacy',
    value: legacy,
    ...(legacy === null ? { error: { code: 'TANDEM_ERR_PROMETHEUS_NO_VALUE', message: 'empty' } } : {}),
  },
  candidate: {
    query: 'q-candidate',
    value: candidate,
    ...(candidate === null ? { error: { code: 'TANDEM_ERR_PROMETHEUS_UNREACHABLE', message: 'Prometheus down' } } : {}),
  },
})

const window = { start: 0, end: 10_000 }
const samples = { legacy: 100, candidate: 100 }
const rulesOf = (r: CustomReading, dry: string[] = []) => customRules([r], window, new Set(dry), samples)

describe('custom metric queries', () => {
  it('substitute {{system}}, {{arm}} and {{interval}} as a PromQL duration', () => {
    const vars = { system: 'orders', arm: 'candidate', interval: 10_000 } as const
    const q = renderQuery('rate(e{app="{{system}}",arm="{{ arm }}"}[{{interval}}])', vars)
    expect(q).toBe('rate(e{app="orders",arm="candidate"}[10s])')
    expect(promDuration(1500)).toBe('1500ms')
    expect(promDuration(120_000)).toBe('120s')
  })
})

describe('custom metric thresholds', () => {
  it('are parsed as the built-in rules are: absolute, relative (x) or off; a bad one is a config error', () => {
    const m = metric('rollback: "> 0.01"\n          promote: "<= 2x"')
    expect(m.rollback).toMatchObject({ op: '>', value: 0.01, relative: false })
    expect(m.promote).toMatchObject({ op: '<=', value: 2, relative: true })
    expect(m.prometheus.timeout).toBe(5000)
    const bad = (() => {
      try {
        metric('rollback: "more than 3"')
      } catch (error) {
        return error as TandemError
      }
    })()
    expect(bad).toBeInstanceOf(TandemError)
    expect(JSON.stringify(bad!.details)).toContain('TANDEM_ERR_CONFIG_THRESHOLD')
    const none = (() => {
      try {
        metric('rollback: "off"')
      } catch (error) {
        return error as TandemError
      }
    })()
    expect(JSON.stringify(none?.details)).toContain('needs a `rollback` or a `promote` threshold')
  })

  it('judge the candidate against an absolute threshold, with the query and values per arm as evidence', () => {
    const m = metric('rollback: "> 0.01"\n          promote: "<= 0.005"')
    const [rollback, promote] = rulesOf(reading(m, 0.001, 0.02))
    expect(rollback).toMatchObject({
      rule: 'rollback.appErrors',
      metric: 'appErrors',
      value: 0.02,
      baseline: null,
      limit: 0.01,
      threshold: '> 0.01',
      result: 'fail',
      query: { legacy: 'q-legacy', candidate: 'q-candidate' },
      values: { legacy: 0.001, candidate: 0.02 },
      source: 'http://prom:9090',
    })
    expect(promote).toMatchObject({ rule: 'promote.appErrors', limit: 0.005, result: 'fail' })
    expect(rulesOf(reading(m, 0.001, 0.004)).map((r) => r.result)).toEqual(['pass', 'pass'])
  })

  it("judge a relative threshold against a multiple of legacy's value", () => {
    const m = metric('rollback: "> 2x"')
    expect(rulesOf(reading(m, 0.01, 0.03))[0]).toMatchObject({ baseline: 0.01, limit: 0.02, result: 'fail' })
    expect(rulesOf(reading(m, 0.01, 0.015))[0]).toMatchObject({ baseline: 0.01, limit: 0.02, result: 'pass' })
  })

  it('are inconclusive without a value, never a pass, with the coded error', () => {
    const m = metric('rollback: "> 2x"\n          promote: "<= 0.005"')
    const [noCandidate] = rulesOf(reading(m, 0.01, null))
    expect(noCandidate).toMatchObject({ result: 'inconclusive', value: null, limit: null, note: 'Prometheus down' })
    const unreachable = { arm: 'candidate', code: 'TANDEM_ERR_PROMETHEUS_UNREACHABLE', message: 'Prometheus down' }
    expect(noCandidate!.errors).toEqual([unreachable])
    // A relative rule needs legacy's value; an absolute one does not.
    const [noBaseline, absolute] = rulesOf(reading(m, null, 0.001))
    expect(noBaseline).toMatchObject({ result: 'inconclusive', note: 'no baseline for a relative threshold: empty' })
    expect(absolute).toMatchObject({ result: 'pass' })
    const zero = { result: 'inconclusive', note: "no baseline for a relative threshold: legacy's value is 0" }
    expect(rulesOf(reading(m, 0, 0.5))[0]).toMatchObject(zero)
  })
})

describe('custom metrics in a verdict', () => {
  const arm = (requests: number): ArmWindow => ({
    requests,
    errors: 0,
    successes: requests,
    latency: { p50: 10, p95: 12, p99: 13, mean: 10, count: requests },
    samples: Array.from({ length: requests }, () => 10),
  })
  const verdictOf = (s: ReturnType<typeof system>, custom: CustomReading[]) =>
    analyse({
      system: 'orders',
      window,
      arms: { legacy: arm(100), candidate: arm(100) },
      comparisons: null,
      healthFailures: 0,
      analysis: s.analysis,
      custom,
    })
  const twoRules = `        - { name: appErrors, prometheus: { url: http://prom:9090, query: q }, rollback: "> 0.01" }
        - { name: queueLag, prometheus: { url: http://prom:9090, query: q }, promote: "<= 100" }
`

  it('fail when a custom rollback rule fires, naming it', () => {
    const s = system(twoRules)
    const [errors, lag] = s.analysis.metrics as [never, never]
    const v = verdictOf(s, [reading(errors, 0, 0.5), reading(lag, 1, 5)])
    expect(v.verdict).toBe('fail')
    expect(v.reason).toContain('appErrors 0.500 > 0.01')
  })

  it('hold (inconclusive) when a custom metric has no value, even when every other rule passes', () => {
    const s = system(twoRules)
    const [errors, lag] = s.analysis.metrics as [never, never]
    const v = verdictOf(s, [reading(errors, 0, 0), reading(lag, 1, null)])
    expect(v.verdict).toBe('inconclusive')
    expect(v.reason).toContain('queueLag: Prometheus down')
    const calm = reading(errors, 0, 0)
    expect(verdictOf(s, [calm, reading(lag, 1, 5)])).toMatchObject({ verdict: 'pass', promoteOk: true })
    expect(verdictOf(s, [calm, reading(lag, 1, 500)])).toMatchObject({ verdict: 'pass', promoteOk: false })
  })

  it('are recorded but not acted on when listed in analysis.dryRun', () => {
    const s = system(twoRules, '      dryRun: [appErrors, queueLag]\n')
    const [errors, lag] = s.analysis.metrics as [never, never]
    const v = verdictOf(s, [reading(errors, 0, 0.5), reading(lag, 1, null)])
    expect(v.verdict).toBe('pass')
    expect(v.rules.find((r) => r.rule === 'rollback.appErrors')).toMatchObject({ result: 'fail', dryRun: true })
  })
})
