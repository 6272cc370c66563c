// Several instances on one PostgreSQL store: a decision taken through one reaches the routing table of
// the other within a second (change feed; every tick also re-reads the store), and only the lease
// holder analyses and decides.
import { afterEach, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.js'
import pino from 'pino'
import type { RoutingTable } from '../../src/domain/routing-table.js'
import { createInstance } from '../../src/instance/create-instance.js'
import type { RolloutController } from '../../src/rollout/controller.js'
import { openStore, type Store } from '../../src/store/open.js'
import { withPostgresSchema } from '../support/postgres.js'
import { eventually } from './harness.js'

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

it('propagates decisions between instances and lets one controller decide', async () => {
  const schema = await withPostgresSchema()
  cleanup.push(schema.drop)
  const config = parseConfig(`version: 1
store: ${JSON.stringify(schema.url)}
systems:
  - name: search
    legacy: { url: http://127.0.0.1:9 }
    candidate: { url: http://127.0.0.1:9 }
    routes: [{ path: /** }]
    rollout: { steps: [{shadow: 1h}, {weight: 100}] }
    analysis: { interval: 100ms, minSamples: 5 }
`)
  const instances: Array<{ store: Store; routing: RoutingTable; controller: RolloutController }> = []
  for (let i = 0; i < 2; i++) {
    // Each instance built as `tandem up` builds it, on its own connection to the shared store (injected).
    const store = await openStore(config.store)
    const instance = await createInstance({
      config,
      store,
      gatewayListen: '127.0.0.1:0',
      adminListen: '127.0.0.1:0',
      logger: pino({ level: 'silent' }),
      admin: { dashboard: false },
      comparisons: false,
      controller: { healthChecks: false },
    })
    cleanup.push(async () => {
      await instance.close()
      await store.close()
    })
    instances.push({ store, routing: instance.routing, controller: instance.controller! })
  }
  const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]]
  await a.controller.act('search', 'start', { actor: 'alice', force: true })
  expect(await eventually(() => b.routing.get('search').stage === 'shadow', 100)).toBe(true)
  await b.controller.act('search', 'pause', { actor: 'bob' })
  expect(await eventually(() => a.routing.get('search').paused, 100)).toBe(true)

  // Both loops tick; exactly one of them holds the lease, the other says so.
  await new Promise((r) => setTimeout(r, 1500))
  const holds = await Promise.all([a.controller.status('search'), b.controller.status('search')])
  const leaseless = holds.filter((h) => h.holdReason === 'another instance holds the controller lease')
  expect(leaseless).toHaveLength(1)
})
