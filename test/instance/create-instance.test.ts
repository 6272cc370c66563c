// The composition root with what a test injects: a store it opened itself (kept open by the instance's
// close) and a clock, which the controller's decisions, step times and hooks follow.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, expect, it } from 'vitest'
import { createInstance } from '../../src/instance/create-instance.js'
import { openStore } from '../../src/store/open.js'
import { getState, listDecisions } from '../../src/store/system-state.js'
import { buildConfig, system, tandemConfig } from '../support/config.js'

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

it('builds gateway, admin and controller on an injected store and clock', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-root-'))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  const config = buildConfig(
    tandemConfig({
      store: `sqlite:${join(dir, 'unused.db')}`,
      systems: [
        system('ledger', { rollout: { steps: [{ shadow: '1h' }, { weight: 100 }] }, analysis: { interval: '1h' } }),
      ],
    }),
  )
  const store = await openStore(`sqlite:${join(dir, 'injected.db')}`)
  cleanup.push(() => store.close())
  const clock = { now: Date.UTC(2026, 0, 1, 9) }
  const instance = await createInstance({
    config,
    store,
    now: () => clock.now,
    gatewayListen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    admin: { dashboard: false },
    controller: { healthChecks: false, failuresDir: join(dir, 'failures') },
  })
  expect(instance.store).toBe(store)
  expect(instance.deps.control).toBe(instance.controller)

  const { decision, state } = await instance.controller!.act('ledger', 'start', { actor: 'test', force: true })
  expect(decision.at).toBe(clock.now)
  expect(state).toMatchObject({ stage: 'shadow', stepStartedAt: clock.now, startedAt: clock.now })
  expect(instance.routing.get('ledger')).toMatchObject({ stage: 'shadow' })
  const status = await instance.controller!.status('ledger')
  expect(status.state.stage).toBe('shadow')

  clock.now += 60_000
  await instance.controller!.act('ledger', 'pause', { actor: 'test' })
  expect((await listDecisions(store, 'ledger')).map((d) => [d.action, d.at])).toEqual([
    ['start', clock.now - 60_000],
    ['pause', clock.now],
  ])

  // The instance leaves an injected store open for its owner.
  await instance.close()
  expect((await getState(store, 'ledger')).paused).toBe(true)
})
