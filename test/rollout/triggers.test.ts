// Must hold: a failing or slow candidate in a canary step is rolled back automatically, with a failure
// report carrying the evidence; traffic goes back to legacy.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { recentVerdicts } from '../../src/store/verdicts.js'
import { getState, listDecisions } from '../../src/store/system-state.js'
import { fastAnalysis, fastCanary, type SystemInput } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { startRollout, type RolloutStack } from '../support/instance.js'
import { trafficUntil } from '../support/loopback.js'

const orders =
  (overrides: Parameters<typeof fastCanary>[3] = {}) =>
  (legacy: string, candidate: string) => ({
    systems: [fastCanary('orders', legacy, candidate, overrides)],
  })
const analysis = (extra: SystemInput['analysis']) => fastAnalysis(20, extra)

let h: RolloutStack | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

async function rolledBack(harness: RolloutStack): Promise<boolean> {
  return (await getState(harness.store, 'orders')).stage === 'rolled-back'
}

/** One rule's evidence in a failure report, as far as these tests read it. */
interface RuleEvidence {
  rule: string
  result: string
  threshold: string
  limit: number
  value: number
  baseline: number
  note: string
  samples: { legacy: number; candidate: number }
  window: { start: number; end: number }
}

/** The failure report written on a rollback, as far as these tests read it. */
interface FailureReport {
  reason: string
  evidence: { rules: RuleEvidence[] }
  recentDecisions: Array<{ action: string }>
  diffs: unknown
  metrics: {
    current: { routes: Array<{ legacy: { errors: number }; candidate: { errors: number } }> }
    history: unknown
  }
}

async function onlyReport(harness: RolloutStack): Promise<FailureReport> {
  // The report is written after the rollback decision is persisted (routing first, then the store,
  // then the report), so it may land a moment after the stage reads rolled-back.
  const files = await eventually(
    async () => (await readdir(join(harness.dir, 'failures')).catch(() => [])).filter((f) => f.endsWith('.json')),
    {
      until: (found) => found.length > 0,
    },
  )
  expect(files).toHaveLength(1)
  expect(files[0]).toMatch(/^orders_\d{8}_\d{6}\.json$/)
  return JSON.parse(await readFile(join(harness.dir, 'failures', files[0]!), 'utf8')) as FailureReport
}

describe('automatic rollback', () => {
  it('rolls back a candidate answering 500 to 30% of requests within two analysis intervals', async () => {
    h = await startRollout(orders(), { candidate: { failRate: 0.3 } })
    const harness = h
    await harness.controller.act('orders', 'start', { actor: 'alice', force: true })
    expect(harness.routing.get('orders')).toMatchObject({ stage: 'canary', weight: 50 })
    await trafficUntil(harness.gatewayUrl, () => rolledBack(harness))

    const state = await getState(harness.store, 'orders')
    expect(state).toMatchObject({ stage: 'rolled-back', weight: 0, activeArm: 'legacy' })
    // The routing table the gateway reads sends everything to legacy.
    expect(harness.routing.get('orders')).toMatchObject({ stage: 'rolled-back', weight: 0, activeArm: 'legacy' })

    // Within two intervals: at most two conclusive verdicts (enough samples) before the rollback.
    const verdicts = await recentVerdicts(harness.store, 'orders', 1000)
    const conclusive = verdicts.filter((v) => v.verdict !== 'inconclusive')
    expect(conclusive.length).toBeGreaterThanOrEqual(1)
    expect(conclusive.length).toBeLessThanOrEqual(2)

    const decisions = await listDecisions(harness.store, 'orders')
    const rollback = decisions.at(-1)!
    expect(rollback).toMatchObject({
      action: 'rollback',
      actor: 'controller',
      fromStage: 'canary',
      toStage: 'rolled-back',
    })
    expect(rollback.reason).toContain('errorRate')

    const report = await onlyReport(harness)
    expect(report).toMatchObject({ system: 'orders', stage: 'canary', weight: 50 })
    expect(report.reason).toContain('errorRate')
    const rule = report.evidence.rules.find((r) => r.rule === 'rollback.errorRate')!
    expect(rule.result).toBe('fail')
    expect(rule.threshold).toBe('> 0.05')
    expect(rule.limit).toBe(0.05)
    // The candidate fails exactly 30% of what it serves; the window may cut through a few requests.
    expect(rule.value).toBeGreaterThan(0.2)
    expect(rule.value).toBeLessThan(0.4)
    expect(rule.samples.candidate).toBeGreaterThanOrEqual(20)
    expect(report.recentDecisions.map((d) => d.action)).toEqual(decisions.map((d) => d.action))
    expect(Array.isArray(report.diffs)).toBe(true)
    expect(report.metrics.current.routes[0]!.candidate.errors).toBeGreaterThan(0)
    expect(report.metrics.current.routes[0]!.legacy.errors).toBe(0)
    expect(Array.isArray(report.metrics.history)).toBe(true)
  })

  it('rolls back a candidate three times slower than legacy on latencyP95, with evidence', async () => {
    h = await startRollout(orders(analysis({ rollback: { errorRate: 'off' } })), {
      legacy: { delayMs: 50 },
      candidate: { delayMs: 150 },
    })
    const harness = h
    await harness.controller.act('orders', 'start', { actor: 'alice', force: true })
    await trafficUntil(harness.gatewayUrl, () => rolledBack(harness), { concurrency: 8 })

    const rollback = (await listDecisions(harness.store, 'orders')).at(-1)!
    expect(rollback.action).toBe('rollback')
    expect(rollback.reason).toContain('latencyP95')
    const report = await onlyReport(harness)
    const rule = report.evidence.rules.find((r) => r.rule === 'rollback.latencyP95')!
    expect(rule).toMatchObject({ metric: 'latencyP95', threshold: '> 2x', result: 'fail', dryRun: false })
    expect(rule.baseline).toBeGreaterThanOrEqual(50)
    expect(rule.value).toBeGreaterThan(2 * rule.baseline)
    expect(rule.limit).toBeCloseTo(2 * rule.baseline, 6)
    expect(rule.samples.legacy).toBeGreaterThanOrEqual(20)
    expect(rule.samples.candidate).toBeGreaterThanOrEqual(20)
    expect(rule.window.end).toBeGreaterThan(rule.window.start)
  })

  it('rolls back a slower candidate on the Mann-Whitney judge with its score', async () => {
    h = await startRollout(
      orders(
        analysis({
          judge: 'mann-whitney',
          rollback: { latencyP95: 'off', errorRate: 'off' },
          mannWhitney: { critical: ['latency'] },
        }),
      ),
      { legacy: { delayMs: 40 }, candidate: { delayMs: 120 } },
    )
    const harness = h
    await harness.controller.act('orders', 'start', { actor: 'alice', force: true })
    await trafficUntil(harness.gatewayUrl, () => rolledBack(harness), { concurrency: 8 })
    const rollback = (await listDecisions(harness.store, 'orders')).at(-1)!
    expect(rollback.action).toBe('rollback')
    expect(rollback.reason).toMatch(/^judge score 0 < 75: latency High/)
    const report = await onlyReport(harness)
    expect(report.evidence).toMatchObject({ judge: 'mann-whitney', score: 0, verdict: 'fail' })
    const rule = report.evidence.rules.find((r) => r.rule === 'judge.latency')!
    expect(rule.result).toBe('fail')
    expect(rule.value).toBeGreaterThan(1)
    expect(rule.note).toMatch(/^High, p=/)
  })

  it('rolls back on consecutive failed health checks while paused', async () => {
    h = await startRollout(orders({ rollout: { steps: [{ shadow: '1m' }, { weight: 100 }] } }))
    const harness = h
    await harness.controller.act('orders', 'start', { actor: 'alice', force: true })
    await harness.controller.act('orders', 'pause', { actor: 'alice' })
    harness.candidate.behaviour.health = 503
    await trafficUntil(harness.gatewayUrl, () => rolledBack(harness), { concurrency: 1, pauseMs: 20 })
    const rollback = (await listDecisions(harness.store, 'orders')).at(-1)!
    expect(rollback.action).toBe('rollback')
    expect(rollback.reason).toContain('healthFailures')
    expect(rollback.fromStage).toBe('shadow')
  })
})
