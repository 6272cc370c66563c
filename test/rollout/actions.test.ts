// Operator actions on the stage machine, the start gate (wave, --force audited), and hooks: confirm
// hooks hold the step until they accept; informative hooks receive JSON with a Slack-style `text`.
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { getState, listDecisions } from '../../src/store/system-state.js'
import { system, type ConfigOptions, type SystemInput } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { actionsOf, startRollout, type RolloutStack } from '../support/instance.js'
import { startReceiver, trafficUntil } from '../support/loopback.js'
import { temporaryDir } from '../support/temp-dir.js'

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

/** One system `billing` with `hooks`, any other top-level keys, judged every `interval` (default 200 ms). */
async function harness(
  hooks: SystemInput['hooks'] = {},
  extra: ConfigOptions = {},
  interval = '200ms',
): Promise<RolloutStack> {
  const h = await startRollout((legacy, candidate) => ({
    systems: [
      system('billing', {
        legacy,
        candidate,
        rollout: { steps: [{ shadow: '100ms' }, { weight: 100 }] },
        analysis: { interval, minSamples: 5, promote: { latencyChange: 'off' } },
        hooks,
      }),
    ],
    ...extra,
  }))
  cleanup.push(() => h.close())
  return h
}

describe('operator actions', () => {
  it('refuses actions the stage does not allow, with TANDEM_ERR_ACTION_INVALID', async () => {
    const h = await harness()
    await expect(h.controller.act('billing', 'promote', { actor: 'bob' })).rejects.toMatchObject({
      code: 'TANDEM_ERR_ACTION_INVALID',
    })
    await expect(h.controller.act('billing', 'retry', { actor: 'bob' })).rejects.toMatchObject({
      code: 'TANDEM_ERR_ACTION_INVALID',
    })
    await expect(h.controller.act('nope', 'start', { actor: 'bob' })).rejects.toMatchObject({
      code: 'TANDEM_ERR_SYSTEM_NOT_FOUND',
    })
    await h.controller.act('billing', 'start', { actor: 'bob', force: true })
    await expect(h.controller.act('billing', 'resume', { actor: 'bob' })).rejects.toMatchObject({
      code: 'TANDEM_ERR_ACTION_INVALID',
    })
    await expect(h.controller.act('billing', 'start', { actor: 'bob' })).rejects.toMatchObject({
      code: 'TANDEM_ERR_ACTION_INVALID',
    })
  })

  it('runs rollback (with a report), retry, promote and finalize by hand', async () => {
    // No tick during the test: the rollback's verification (due one interval later) cannot come before
    // the retry, so the decision log holds exactly the operator's actions.
    const h = await harness({}, {}, '1h')
    await h.controller.act('billing', 'start', { actor: 'bob', force: true })
    await h.controller.act('billing', 'pause', { actor: 'alice' })
    expect((await h.controller.status('billing')).holdReason).toBe('paused by alice')
    expect(h.routing.get('billing').paused).toBe(true)
    await h.controller.act('billing', 'rollback', { actor: 'alice', reason: 'customer complaints' })
    expect(h.routing.get('billing')).toMatchObject({
      stage: 'rolled-back',
      weight: 0,
      activeArm: 'legacy',
      paused: false,
    })
    const files = await readdir(join(h.dir, 'failures'))
    expect(files).toHaveLength(1)
    const report = JSON.parse(await readFile(join(h.dir, 'failures', files[0]!), 'utf8'))
    expect(report).toMatchObject({ system: 'billing', reason: 'customer complaints', stage: 'shadow' })
    expect((await h.controller.status('billing')).holdReason).toContain('tandem retry')

    const retried = await h.controller.act('billing', 'retry', { actor: 'alice' })
    expect(retried.state).toMatchObject({ stage: 'shadow', stepIndex: 0 })
    await h.controller.act('billing', 'promote', { actor: 'alice' })
    expect(h.routing.get('billing')).toMatchObject({ stage: 'promoted', weight: 100, activeArm: 'candidate' })
    const done = await h.controller.act('billing', 'finalize', { actor: 'alice' })
    expect(done.state.stage).toBe('completed')
    expect(await actionsOf(h.store, 'billing')).toEqual(['start', 'pause', 'rollback', 'retry', 'promote', 'finalize'])
  })

  it('refuses start while the wave is not open and records a --force override', async () => {
    const h = await startRollout((legacy, candidate) => ({
      systems: [
        system('first', { wave: 'pilot', legacy, candidate, routes: [{ path: '/a/**' }] }),
        system('second', { wave: 'later', legacy, candidate, routes: [{ path: '/b/**' }] }),
      ],
      waves: [
        { name: 'pilot', systems: { names: ['first'] } },
        { name: 'later', systems: { names: ['second'] } },
      ],
    }))
    cleanup.push(() => h.close())
    const refused = await h.controller.act('second', 'start', { actor: 'bob' }).catch((e: unknown) => e)
    expect(refused).toMatchObject({ code: 'TANDEM_ERR_START_BLOCKED' })
    expect((refused as Error).message).toContain('wave later')
    expect((await h.controller.status('second')).holdReason).toContain('wave later')
    expect((await getState(h.store, 'second')).stage).toBe('pending')

    const forced = await h.controller.act('second', 'start', { actor: 'bob', force: true })
    expect(forced.state.stage).toBe('shadow')
    expect(forced.decision.reason).toContain('--force')
    expect(forced.decision.evidence).toMatchObject({ force: true })
    expect((forced.decision.evidence as { overridden: string[] }).overridden.join(' ')).toContain('wave later')
  })
})

describe('hooks', () => {
  it('holds at confirm-promotion until the webhook accepts, and notifies with a Slack-style text', async () => {
    let accept = false
    const hook = await startReceiver((payload) => (payload.kind === 'confirm-promotion' && !accept ? 503 : 200))
    cleanup.push(() => hook.close())
    const received = hook.received as Array<{ kind: string; text: string }>
    const h = await harness({
      confirmPromotion: { webhook: `${hook.url}/confirm` },
      promoted: { webhook: `${hook.url}/promoted` },
    })
    await h.controller.act('billing', 'start', { actor: 'bob', force: true })
    await trafficUntil(
      h.gatewayUrl,
      async () =>
        (await h.controller.status('billing')).holdReason?.startsWith('waiting for confirm-promotion hook') === true,
      { maxRequests: 10_000 },
    )
    expect((await getState(h.store, 'billing')).stage).toBe('canary')
    expect(received.filter((p) => p.kind === 'confirm-promotion').length).toBeGreaterThanOrEqual(1)
    accept = true
    await trafficUntil(h.gatewayUrl, async () => (await getState(h.store, 'billing')).stage === 'promoted', {
      maxRequests: 10_000,
    })
    expect(await eventually(() => received.some((p) => p.kind === 'promoted'))).toBe(true)
    const promoted = received.find((p) => p.kind === 'promoted')!
    expect(promoted.text).toMatch(/^tandem: billing promote -> promoted/)
    const holds = (await listDecisions(h.store, 'billing')).filter((d) => d.action === 'hold')
    expect(holds.some((d) => d.reason.startsWith('waiting for confirm-promotion hook'))).toBe(true)
  })

  it('delivers program-wide notifications to their subscribers only', async () => {
    const hook = await startReceiver(() => 204)
    cleanup.push(() => hook.close())
    const received = hook.received as Array<{ kind: string; text: string; system: string }>
    const h = await harness({}, { notifications: [{ name: 'ops', webhook: `${hook.url}/slack`, on: ['rollback'] }] })
    await h.controller.act('billing', 'start', { actor: 'bob', force: true })
    await h.controller.act('billing', 'pause', { actor: 'bob' })
    await h.controller.act('billing', 'rollback', { actor: 'bob', reason: 'drill' })
    expect(await eventually(() => received.length >= 1)).toBe(true)
    await new Promise((r) => setTimeout(r, 300))
    expect(received.map((p) => p.kind)).toEqual(['rollback'])
    expect(received[0]).toMatchObject({ system: 'billing' })
    expect(received[0]!.text).toContain('rolled-back')
  })

  it('runs a shell command hook on rollback with the payload on stdin and TANDEM_* variables', async () => {
    const out = join(temporaryDir('tandem-hook-'), 'hook-out.json')
    const h = await harness({ rollback: { command: `cat > ${out}.$TANDEM_HOOK` } })
    await h.controller.act('billing', 'start', { actor: 'bob', force: true })
    await h.controller.act('billing', 'rollback', { actor: 'bob', reason: 'drill' })
    const file = `${out}.rollback`
    expect(
      await eventually(async () =>
        readFile(file, 'utf8').then(
          (t) => t.length > 0,
          () => false,
        ),
      ),
    ).toBe(true)
    const payload = JSON.parse(await readFile(file, 'utf8'))
    expect(payload).toMatchObject({ kind: 'rollback', system: 'billing', stage: 'rolled-back', reason: 'drill' })
    expect(payload.text).toContain('drill')
  })
})
