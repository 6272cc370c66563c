import { describe, expect, it } from 'vitest'
import { parseThreshold } from '../config/units.js'
import { judgeRollback, verificationDue, verificationWindow } from './rollback-check.js'
import { parseConfig } from '../config/load.js'

const errorRate = parseThreshold('> 0.05')!
const window = { start: 1000, end: 3000 }

describe('judgeRollback', () => {
  it('verifies a healthy legacy with a low error rate', () => {
    const j = judgeRollback({
      window,
      health: { ok: true, detail: 'answered 200' },
      legacy: { requests: 100, errors: 5 },
      errorRate,
      minSamples: 50,
    })
    expect(j.action).toBe('rollback-verified')
    expect(j.reason).toBe('rollback verified: legacy health check passed, legacy errorRate 0.0500 over 100 requests')
    expect(j.evidence.failures).toEqual([])
  })

  it('fails on a failed health check even without traffic', () => {
    const j = judgeRollback({
      window,
      health: { ok: false, detail: 'http://l/health answered 503' },
      legacy: { requests: 0, errors: 0 },
      errorRate,
      minSamples: 50,
    })
    expect(j.action).toBe('rollback-failed')
    expect(j.reason).toMatch(
      /^rollback failed: legacy health check failed: http:\/\/l\/health answered 503; legacy is not healthy either/,
    )
  })

  it('fails when legacy fires the errorRate trigger, only with enough samples', () => {
    expect(
      judgeRollback({ window, health: null, legacy: { requests: 60, errors: 6 }, errorRate, minSamples: 50 }).action,
    ).toBe('rollback-failed')
    const few = judgeRollback({ window, health: null, legacy: { requests: 10, errors: 6 }, errorRate, minSamples: 50 })
    expect(few.action).toBe('rollback-verified')
    expect(few.reason).toBe('rollback verified: legacy errorRate not judged (10 of 50 samples)')
    // The trigger turned off: only the health check decides.
    expect(
      judgeRollback({
        window,
        health: { ok: true, detail: '' },
        legacy: { requests: 60, errors: 60 },
        errorRate: null,
        minSamples: 50,
      }).action,
    ).toBe('rollback-verified')
  })

  it('is due one analysis interval after the rollback and not beyond the metrics kept', () => {
    const system = parseConfig(`version: 1
systems: [{ name: a, legacy: { url: http://127.0.0.1:9 }, candidate: { url: http://127.0.0.1:9 }, routes: [{ path: /** }], analysis: { interval: 10s } }]`)
      .systems[0]!
    expect(verificationDue(system, 0, 9_999)).toBe('wait')
    expect(verificationDue(system, 0, 10_000)).toBe('due')
    expect(verificationDue(system, 0, 15 * 60_000)).toBe('too-old')
    expect(verificationWindow(12_345, 22_400)).toEqual({ start: 12_000, end: 22_400 })
  })
})
