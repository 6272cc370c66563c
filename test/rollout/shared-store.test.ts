// Several instances on one PostgreSQL store: a decision taken through one reaches the routing table of
// the other within a second (change feed; every tick also re-reads the store), and only the lease
// holder analyses and decides.
import { afterEach, expect, it } from 'vitest'
import { system, tandemConfig } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { withPostgresSchema } from '../support/postgres.js'

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

it('propagates decisions between instances and lets one controller decide', async () => {
  const schema = await withPostgresSchema()
  cleanup.push(schema.drop)
  const document = tandemConfig({
    store: schema.url,
    systems: [
      system('search', {
        rollout: { steps: [{ shadow: '1h' }, { weight: 100 }] },
        analysis: { interval: '100ms', minSamples: 5 },
      }),
    ],
  })
  const instances: TestInstance[] = []
  for (let i = 0; i < 2; i++) {
    const instance = await buildInstance(document, { controller: { healthChecks: false } })
    cleanup.push(() => instance.close())
    instances.push(instance)
  }
  const [a, b] = instances as [TestInstance, TestInstance]
  await a.controller.act('search', 'start', { actor: 'alice', force: true })
  expect(await eventually(() => b.routing.get('search').stage === 'shadow', { tries: 100 })).toBe(true)
  await b.controller.act('search', 'pause', { actor: 'bob' })
  expect(await eventually(() => a.routing.get('search').paused, { tries: 100 })).toBe(true)

  // Both loops tick; exactly one of them holds the lease, the other says so.
  await new Promise((r) => setTimeout(r, 1500))
  const holds = await Promise.all([a.controller.status('search'), b.controller.status('search')])
  const leaseless = holds.filter((h) => h.holdReason === 'another instance holds the controller lease')
  expect(leaseless).toHaveLength(1)
})
