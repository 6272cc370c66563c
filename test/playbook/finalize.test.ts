// Must hold: `tandem finalize` is refused while a post-migration check fails and succeeds once it passes
// (or with --force, audited); a manual rollback is verified like an automatic one; a halted program
// keeps an active system at its current step while rollback triggers still work.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { haltProgram } from '../../src/program/halt.js'
import { recentVerdicts } from '../../src/store/verdicts.js'
import { getState, listDecisions } from '../../src/store/system-state.js'
import { fastCanary, type SystemInput } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { startRollout, type RolloutStack } from '../support/instance.js'
import { trafficUntil } from '../support/loopback.js'

let h: RolloutStack | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

type Post = NonNullable<SystemInput['checklist']>['post']
type Steps = NonNullable<SystemInput['rollout']>['steps']
const orders = (post: Post, steps?: Steps) => (legacy: string, candidate: string) => ({
  systems: [
    fastCanary('orders', legacy, candidate, {
      checklist: { post },
      ...(steps === undefined ? {} : { rollout: { steps } }),
    }),
  ],
})

describe('post-migration checklist before finalize', () => {
  it('refuses finalize naming the failing check, then finalizes once it passes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-post-'))
    try {
      await writeFile(join(dir, 'plan.md'), '# rollback plan\n')
      h = await startRollout(
        orders({
          custom: [{ name: 'decommissioned', command: `test -f ${join(dir, 'decommissioned')}` }],
          rollbackPlan: { file: join(dir, 'plan.md') },
        }),
      )
      const harness = h
      await harness.controller.act('orders', 'start', { actor: 'alice' })
      await harness.controller.act('orders', 'promote', { actor: 'alice' })

      const refused = harness.controller.act('orders', 'finalize', { actor: 'alice' })
      await expect(refused).rejects.toMatchObject({ code: 'TANDEM_ERR_FINALIZE_BLOCKED' })
      await expect(refused).rejects.toThrow(
        /post-migration check custom:decommissioned failed: .*tandem check orders --post/,
      )
      expect((await getState(harness.store, 'orders')).stage).toBe('promoted')

      await writeFile(join(dir, 'decommissioned'), 'done\n')
      const done = await harness.controller.act('orders', 'finalize', { actor: 'alice' })
      expect(done.state.stage).toBe('completed')
      expect(done.decision.reason).toBe('finalized; legacy retired by alice')
      const stored = await harness.store.db
        .selectFrom('checklist_results')
        .select(['check', 'ok'])
        .where('system', '=', 'orders')
        .execute()
      expect(stored.map((r) => r.check)).toContain('post:custom:decommissioned')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('finalizes with --force, recording what was overridden', async () => {
    h = await startRollout(orders({ tests: { command: 'exit 3' } }))
    await h.controller.act('orders', 'start', { actor: 'alice' })
    await h.controller.act('orders', 'promote', { actor: 'alice' })
    const forced = await h.controller.act('orders', 'finalize', { actor: 'alice', force: true })
    expect(forced.state.stage).toBe('completed')
    expect(forced.decision.reason).toBe(
      'finalized with --force by alice, overriding: post-migration check tests failed; legacy retired',
    )
    expect(forced.decision.evidence).toMatchObject({ force: true, overridden: ['post-migration check tests failed'] })
  })
})

describe('manual rollback and a halted program', () => {
  it('verifies a manual rollback onto a healthy legacy', async () => {
    h = await startRollout(orders({}))
    const harness = h
    await harness.controller.act('orders', 'start', { actor: 'alice' })
    await harness.controller.act('orders', 'rollback', { actor: 'alice', reason: 'wrong totals' })
    expect(
      await eventually(async () =>
        (await listDecisions(harness.store, 'orders')).some((d) => d.action.startsWith('rollback-')),
      ),
    ).toBe(true)
    const actions = (await listDecisions(harness.store, 'orders')).map((d) => d.action)
    expect(actions).toEqual(['start', 'rollback', 'rollback-verified'])
  })

  it('holds an active system at its step while halted, and still rolls it back', async () => {
    h = await startRollout(orders({}, [{ weight: 10, pause: '200ms' }, { weight: 50, pause: '1m' }, { weight: 100 }]))
    const harness = h
    await harness.controller.act('orders', 'start', { actor: 'alice' })
    await haltProgram(harness.store, { actor: 'alice', role: 'operator', reason: 'drill' }, Date.now())
    // Passing verdicts well past the step's pause: without the halt it would have advanced to 50 %.
    await trafficUntil(
      harness.gatewayUrl,
      async () => (await recentVerdicts(harness.store, 'orders', 5)).filter((v) => v.verdict === 'pass').length >= 5,
    )
    expect(await getState(harness.store, 'orders')).toMatchObject({ stage: 'canary', weight: 10, stepIndex: 0 })
    expect((await harness.controller.status('orders')).holdReason).toMatch(
      /^program halted: drill \(by alice at .*\); run `tandem program resume`$/,
    )
    // The hold is recorded once in the audit trail, not every interval.
    expect(
      (await listDecisions(harness.store, 'orders')).filter(
        (d) => d.action === 'hold' && d.reason.startsWith('program halted: drill'),
      ),
    ).toHaveLength(1)
    // Rollback triggers keep working.
    harness.candidate.behaviour.failRate = 0.3
    await trafficUntil(
      harness.gatewayUrl,
      async () => (await getState(harness.store, 'orders')).stage === 'rolled-back',
    )
    expect((await getState(harness.store, 'orders')).stage).toBe('rolled-back')
  })
})
