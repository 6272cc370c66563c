// A code system judged from its adapter's observations exactly as an HTTP one from the gateway's metrics
// (SPEC 12): a candidate failing 30 % of calls in shadow is rolled back by analysis, with no HTTP traffic,
// errorRate evidence from the observations, and no caller ever sees the candidate's errors.
import { afterEach, expect, it } from 'vitest'
import { adapter } from '../../src/index.js'
import { eventually } from '../support/eventually.js'
import { FLAGS, act, codeSystem, flagInstance } from './support.js'
import { request } from 'undici'
import type { ComparisonReader } from '../../src/compare/sink.js'
import { listDecisions } from '../../src/store/system-state.js'

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

it('rolls back a code system whose candidate throws on 30 % of calls, from the adapter observations', async () => {
  const { instance } = await flagInstance(
    [
      codeSystem('pricing', {
        rollout: { steps: [{ shadow: '1h' }, { weight: 100 }] },
        analysis: { interval: '1s', minSamples: 20 },
      }),
    ],
    cleanup,
  )
  const admin = instance.adminUrl
  await act(admin, 'pricing', 'start')
  let n = 0
  const price = adapter(
    'pricing',
    {
      legacy: async (sku: string) => ({ sku, cents: 100 }),
      candidate: async (sku: string) => {
        if (n++ % 10 < 3) throw new Error('candidate bug')
        return { sku, cents: 100 }
      },
    },
    { admin, token: FLAGS, key: (sku) => sku, refreshMs: 100, flushMs: 50 },
  )
  cleanup.push(() => price.close())
  await price.ready()
  expect(price.flag.stage).toBe('shadow')

  let calls = 0
  // In shadow every caller gets legacy's answer, whatever the candidate does (collected, not thrown:
  // eventually retries what throws).
  const wrong: unknown[] = []
  await eventually(
    async () => {
      for (let i = 0; i < 20; i++) {
        const got = await price(`sku-${calls}`)
        if (got.sku !== `sku-${calls}` || got.cents !== 100 || Object.keys(got).length !== 2) wrong.push(got)
        calls++
      }
      return price.flag.stage === 'rolled-back'
    },
    { tries: 1000, every: 20 },
  )
  expect(wrong).toEqual([])

  const res = await request(`${admin}/api/v1/systems/pricing`, { headers: { authorization: `Bearer ${FLAGS}` } })
  // The flags role reads flags only: the system detail is refused.
  expect(res.statusCode).toBe(403)
  await res.body.dump()
  const rollback = (await listDecisions(instance.store, 'pricing')).find((d) => d.action === 'rollback')!
  expect(rollback.actor).toBe('controller')
  const evidence = rollback.evidence as {
    rules: Array<{ metric: string; result: string; value: number; samples: { candidate: number } }>
  }
  const errorRate = evidence.rules.find((r) => r.metric === 'errorRate' && r.result === 'fail')
  expect(errorRate).toBeDefined()
  expect(errorRate!.value).toBeGreaterThan(0.05)
  expect(errorRate!.samples.candidate).toBeGreaterThanOrEqual(20)
  // The gateway saw nothing: the verdict came from the adapter's observations alone.
  expect(instance.metrics.routes('pricing', 0, Date.now() + 1000).map((r) => r.route)).toEqual(['(code)'])
  // Shadow calls were compared by the instance's diff engine, as experiment() results are.
  const counted = async () => {
    const c = await (instance.comparisons as unknown as ComparisonReader).counts('pricing', 0, Date.now() + 1000)
    return c.match + c.mismatch + c.candidateError
  }
  await eventually(async () => (await counted()) > 0)
  // After the rollback the adapter serves legacy only.
  expect(await price('after')).toEqual({ sku: 'after', cents: 100 })
}, 120_000)
