import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import type { ArmWindow } from '../metrics/reader.js'
import { judge } from './judge.js'
import { analyse, type AnalysisInput } from './verdict.js'

function analysisConfig(extra = ''): AnalysisInput['analysis'] {
  const config = parseConfig(`version: 1
systems:
  - name: api
    legacy: { url: http://127.0.0.1:9001 }
    candidate: { url: http://127.0.0.1:9002 }
    routes: [{ path: /** }]
    analysis:
      minSamples: 50
${extra}`)
  return config.systems[0]!.analysis
}

/** An arm window with `requests` latencies drawn deterministically around `ms`. */
function arm(requests: number, errors: number, ms: number): ArmWindow {
  const samples = Array.from({ length: requests }, (_, i) => ms * (0.8 + (0.4 * ((i * 37) % 100)) / 100))
  const sorted = [...samples].sort((a, b) => a - b)
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length)
  return {
    requests,
    errors,
    successes: requests - errors,
    latency: { p50: q(0.5), p95: q(0.95), p99: q(0.99), mean, count: requests },
    samples,
  }
}

const window = { start: 1000, end: 2000 }
const input = (
  legacy: ArmWindow,
  candidate: ArmWindow,
  analysis = analysisConfig(),
  extra: Partial<AnalysisInput> = {},
): AnalysisInput => ({
  system: 'api',
  window,
  arms: { legacy, candidate },
  comparisons: { match: 95, mismatch: 5, noiseOnly: 0, skipped: 0, candidateError: 0 },
  healthFailures: 0,
  analysis,
  ...extra,
})

describe('analyse (threshold judge, SPEC 2 defaults)', () => {
  it('fails a candidate answering 500 to 30% of requests, naming errorRate with value and threshold', () => {
    const v = analyse(input(arm(200, 0, 10), arm(100, 30, 10)))
    expect(v.verdict).toBe('fail')
    const rule = v.rules.find((r) => r.rule === 'rollback.errorRate')!
    expect(rule).toMatchObject({
      metric: 'errorRate',
      value: 0.3,
      limit: 0.05,
      threshold: '> 0.05',
      result: 'fail',
      window,
    })
    expect(rule.samples).toEqual({ legacy: 200, candidate: 100 })
    expect(v.reason).toContain('errorRate 0.3')
  })

  it('fails a candidate three times slower on latencyP95 relative to legacy', () => {
    const v = analyse(input(arm(200, 0, 10), arm(100, 0, 30)))
    expect(v.verdict).toBe('fail')
    const rule = v.rules.find((r) => r.rule === 'rollback.latencyP95')!
    expect(rule.result).toBe('fail')
    expect(rule.value!).toBeGreaterThan(2 * rule.baseline!)
    expect(rule.limit).toBeCloseTo(2 * rule.baseline!, 9)
  })

  it('is inconclusive with fewer than minSamples, even with errors', () => {
    const v = analyse(input(arm(200, 0, 10), arm(12, 6, 10)))
    expect(v.verdict).toBe('inconclusive')
    expect(v.reason).toBe('inconclusive: 12 of 50 samples')
    expect(v.rules.find((r) => r.rule === 'rollback.errorRate')!.result).toBe('inconclusive')
  })

  it('passes a healthy candidate and reports the promote rule as met', () => {
    const v = analyse(input(arm(200, 0, 10), arm(100, 0, 10)))
    expect(v.verdict).toBe('pass')
    expect(v.promoteOk).toBe(true)
    expect(v.rules.filter((r) => r.result === 'fail')).toEqual([])
  })

  it('records dry-run metrics without acting on them', () => {
    const v = analyse(input(arm(200, 0, 10), arm(100, 30, 10), analysisConfig('      dryRun: [errorRate]')))
    const rule = v.rules.find((r) => r.rule === 'rollback.errorRate')!
    expect(rule).toMatchObject({ result: 'fail', dryRun: true })
    expect(v.verdict).toBe('pass')
  })

  it('fails on consecutive health failures even without traffic', () => {
    const v = analyse(input(arm(0, 0, 10), arm(0, 0, 10), analysisConfig(), { healthFailures: 4 }))
    expect(v.verdict).toBe('fail')
    expect(v.reason).toContain('healthFailures 4')
  })

  it('fails when the match rate falls under the rollback threshold', () => {
    const v = analyse(
      input(arm(200, 0, 10), arm(100, 0, 10), analysisConfig(), {
        comparisons: { match: 30, mismatch: 70, noiseOnly: 0, skipped: 0, candidateError: 0 },
      }),
    )
    expect(v.verdict).toBe('fail')
    expect(v.rules.find((r) => r.rule === 'rollback.matchRate')).toMatchObject({ value: 0.3, result: 'fail' })
  })

  it('does not pass the promote rule when the candidate is 25% slower', () => {
    const v = analyse(input(arm(200, 0, 10), arm(100, 0, 12.5)))
    expect(v.verdict).toBe('pass')
    expect(v.promoteOk).toBe(false)
    expect(v.rules.find((r) => r.rule === 'promote.latencyChange')!.result).toBe('fail')
  })
})

describe('analyse (mann-whitney judge)', () => {
  const mw = analysisConfig(
    '      judge: mann-whitney\n      rollback: { latencyP95: "off" }\n      mannWhitney: { critical: [latency] }',
  )

  it('fails with score 0 when the critical latency metric is significantly higher', () => {
    const v = analyse(input(arm(200, 0, 10), arm(100, 0, 13), mw))
    expect(v.verdict).toBe('fail')
    expect(v.score).toBe(0)
    expect(v.rules.find((r) => r.rule === 'judge.latency')!.result).toBe('fail')
  })

  it('passes with score 100 when both arms come from the same distribution', () => {
    const v = analyse(input(arm(200, 0, 10), arm(100, 0, 10), mw))
    expect(v.verdict).toBe('pass')
    expect(v.score).toBe(100)
  })
})

describe('judge scoring', () => {
  const opts = { confidence: 0.98, allowedIncrease: 1, pass: 95, marginal: 75 }
  const same = Array.from({ length: 60 }, (_, i) => i % 10)
  const higher = same.map((v) => v + 5)

  it('scores 100 x Pass / classified and calls half passing a failure', () => {
    const r = judge(
      [
        { name: 'a', control: same, experiment: same, direction: 'increase', critical: false },
        { name: 'b', control: same, experiment: higher, direction: 'increase', critical: false },
      ],
      opts,
    )
    expect(r.score).toBe(50)
    expect(r.result).toBe('fail')
    expect(r.metrics.map((m) => m.classification)).toEqual(['Pass', 'High'])
  })

  it('does not count a significant decrease against an increase-is-bad metric', () => {
    const r = judge(
      [{ name: 'latency', control: higher, experiment: same, direction: 'increase', critical: true }],
      opts,
    )
    expect(r.result).toBe('pass')
  })

  it('ignores a significant increase smaller than allowedIncrease', () => {
    const r = judge(
      [
        {
          name: 'latency',
          control: same.map((v) => v + 10),
          experiment: higher.map((v) => v + 10),
          direction: 'increase',
          critical: false,
        },
      ],
      { ...opts, allowedIncrease: 1.5 },
    )
    expect(r.metrics[0]!.classification).toBe('Pass')
  })

  it('scores marginal between the marginal and pass thresholds', () => {
    const metrics = ['a', 'b', 'c', 'd'].map((name) => ({
      name,
      control: same,
      experiment: same,
      direction: 'increase' as const,
      critical: false,
    }))
    metrics.push({ name: 'e', control: same, experiment: higher, direction: 'increase', critical: false })
    const r = judge(metrics, opts)
    expect(r.score).toBe(80)
    expect(r.result).toBe('marginal')
  })
})

describe('analysis.latencyFloor (loopback noise)', () => {
  it(
    'does not judge latencyP95 "> 2x" or promote.latencyChange while both arms are below the 5ms default,' +
      ' and says so',
    () => {
      // 0.1 ms against 0.4 ms: four times slower, and meaningless on loopback.
      const v = analyse(input(arm(200, 0, 0.1), arm(100, 0, 0.4)))
      expect(v.verdict).toBe('pass')
      expect(v.promoteOk).toBe(true)
      for (const name of ['rollback.latencyP95', 'promote.latencyChange']) {
        const rule = v.rules.find((r) => r.rule === name)!
        expect(rule).toMatchObject({ result: 'inconclusive', judged: false, limit: null })
        expect(rule.note).toContain('below analysis.latencyFloor 5 ms')
        expect(rule.value).toBeGreaterThan(0)
      }
      expect(v.rules.find((r) => r.rule === 'rollback.errorRate')!.judged).toBeUndefined()
    },
  )

  it('judges them as soon as one arm reaches the floor', () => {
    const v = analyse(input(arm(200, 0, 1), arm(100, 0, 9)))
    expect(v.verdict).toBe('fail')
    const rule = v.rules.find((r) => r.rule === 'rollback.latencyP95')!
    expect(rule.result).toBe('fail')
    expect(rule.judged).toBeUndefined()
    expect(v.rules.find((r) => r.rule === 'promote.latencyChange')!.result).toBe('fail')
  })

  it('follows a configured latencyFloor, and 0ms judges every latency', () => {
    const fast = [arm(200, 0, 0.1), arm(100, 0, 0.4)] as const
    expect(analyse(input(...fast, analysisConfig('      latencyFloor: 0ms'))).verdict).toBe('fail')
    const raised = analyse(input(arm(200, 0, 10), arm(100, 0, 30), analysisConfig('      latencyFloor: 50ms')))
    expect(raised.verdict).toBe('pass')
    expect(raised.rules.find((r) => r.rule === 'rollback.latencyP95')!.judged).toBe(false)
  })

  it('keeps judging an absolute latencyP95 rule below the floor', () => {
    const v = analyse(
      input(arm(200, 0, 0.1), arm(100, 0, 0.4), analysisConfig('      rollback: { latencyP95: "> 0.2" }')),
    )
    const rule = v.rules.find((r) => r.rule === 'rollback.latencyP95')!
    expect(rule.result).toBe('fail')
    expect(rule.judged).toBeUndefined()
  })

  it('defaults to 5ms', () => {
    expect(analysisConfig().latencyFloor).toBe(5)
  })
})
