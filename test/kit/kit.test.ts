// The test kit itself: the config builder writes documents the schema accepts (and refuses what it
// should, with located errors), and eventually polls a bounded number of times, never against a clock.
import { describe, expect, it } from 'vitest'
import { checkConfigText } from '../../src/config/load.js'
import {
  buildConfig,
  fastCanary,
  invalidConfig,
  lineOf,
  NOWHERE,
  system,
  tandemConfig,
  toYaml,
} from '../support/config.js'
import { eventually } from '../support/eventually.js'

describe('config builder', () => {
  it('builds a loopback document whose systems default to every path on one URL', () => {
    const config = buildConfig(
      tandemConfig({
        dir: '/tmp/kit',
        tokens: [{ name: 'ops', role: 'operator', token: 'kit-operator-token-0001' }],
        systems: [system('api'), system('web', { legacy: 'http://127.0.0.1:1', candidate: 'http://127.0.0.1:2' })],
        waves: [{ name: 'pilot', systems: { names: ['api'] } }],
      }),
    )
    expect(config.gateway.listen).toBe('127.0.0.1:0')
    expect(config.admin.listen).toBe('127.0.0.1:0')
    expect(config.admin.tokens).toEqual([{ name: 'ops', role: 'operator', token: 'kit-operator-token-0001' }])
    expect(config.store).toBe('sqlite:/tmp/kit/tandem.db')
    const [api, web] = config.systems
    expect(api).toMatchObject({ legacy: { url: NOWHERE }, candidate: { url: NOWHERE }, routes: [{ path: '/**' }] })
    expect(web).toMatchObject({ legacy: { url: 'http://127.0.0.1:1' }, candidate: { url: 'http://127.0.0.1:2' } })
    expect(config.waves.map((w) => w.name)).toEqual(['pilot'])
  })

  it('keeps thresholds, durations and `off` as a user writes them', () => {
    const orders = fastCanary('orders', NOWHERE, NOWHERE, {
      analysis: {
        interval: '200ms',
        minSamples: 20,
        rollback: { latencyP95: 'off' },
        promote: { latencyChange: '<= 1.0' },
      },
    })
    const [parsed] = buildConfig(tandemConfig({ systems: [orders] })).systems
    expect(parsed!.analysis.interval).toBe(200)
    expect(parsed!.analysis.rollback.latencyP95).toBeNull()
    expect(parsed!.analysis.promote.latencyChange).toMatchObject({ op: '<=', value: 1 })
    expect(parsed!.health.interval).toBe(200)
    expect(parsed!.rollout.steps.map((s) => s.kind)).toEqual(['weight', 'weight'])
  })

  it('writes a refused document whose errors point at the line lineOf finds', () => {
    const text = toYaml(invalidConfig({ ...tandemConfig(), systems: [{ ...system('api'), colour: 'blue' }] }))
    const outcome = checkConfigText(text)
    expect(outcome.ok).toBe(false)
    if (!outcome.ok) {
      expect(outcome.failure.issues).toEqual([
        expect.objectContaining({ code: 'TANDEM_ERR_CONFIG_UNKNOWN_KEY', line: lineOf(text, 'colour: blue') }),
      ])
    }
  })
})

describe('eventually', () => {
  it('resolves with the first value `until` accepts, calling no more than needed', async () => {
    let calls = 0
    expect(await eventually(() => ++calls, { until: (n) => n === 3, every: 1 })).toBe(3)
    expect(calls).toBe(3)
  })

  it('retries a function whose assertions fail, and resolves once they hold', async () => {
    let calls = 0
    await eventually(() => expect(++calls).toBeGreaterThan(2), { every: 1 })
    expect(calls).toBe(3)
  })

  it('gives up after `tries` calls with the last error, or the last value', async () => {
    let calls = 0
    await expect(eventually(() => expect(++calls).toBe(0), { tries: 4, every: 1 })).rejects.toThrow(/expected 4 to be/)
    expect(calls).toBe(4)
    const never = eventually(() => false, { tries: 2, every: 1 })
    await expect(never).rejects.toThrow('eventually: not met after 2 tries; last value: false')
  })
})
