// The events-system rollback on Kafka (two librdkafka mock clusters): two events published only to the
// old cluster roll the system back within two intervals plus the lag, their ids in the failure report.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.js'
import { dualPublish } from '../../src/events/dual-publish.js'
import type { EventStream } from '../../src/events/event-stream.js'
import { openStream } from '../../src/events/open-stream.js'
import { RoutingTable } from '../../src/domain/routing-table.js'
import { RequestMetrics } from '../../src/metrics/request-metrics.js'
import { RolloutController } from '../../src/rollout/controller.js'
import { openStore, type Store } from '../../src/store/open.js'
import { getState } from '../../src/store/system-state.js'
import { startMockCluster, type MockCluster } from '../events/kafka-cluster.js'

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0)

describe('events system verified continuously (Kafka -> Kafka)', () => {
  const clusters: MockCluster[] = []
  const streams: EventStream[] = []
  let dir: string | undefined
  let store: Store | undefined
  afterAll(async () => {
    await store?.close()
    for (const s of streams) await s.close()
    await Promise.all(clusters.map((c) => c.stop()))
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('rolls back on two events missing on the new cluster', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-move-kafka-'))
    clusters.push(...(await Promise.all([startMockCluster(), startMockCluster()])))
    const [oldUrl, newUrl] = [clusters[0]!.topicUrl(), clusters[1]!.topicUrl()]
    const old = await openStream(oldUrl, { create: true })
    const neu = await openStream(newUrl, { create: true })
    streams.push(old, neu)
    const config = parseConfig(`version: 1
store: sqlite:${join(dir, 'tandem.db')}
systems:
  - name: orders-kafka
    kind: events
    events: { from: "${oldUrl}", to: "${newUrl}", id: /orderId, time: /at, lag: 2s, bucket: 5s }
    rollout: { steps: [{ shadow: 1h }, { weight: 100 }] }
    analysis: { interval: 10s }
`)
    store = await openStore(config.store)
    let clock = T0
    const controller = new RolloutController({
      config: () => config,
      store,
      routing: new RoutingTable(),
      metrics: new RequestMetrics(),
      failuresDir: join(dir, 'failures'),
      healthChecks: false,
      now: () => clock,
    })
    const publisher = dualPublish(old, neu)
    const event = (id: string, at: number) => ({ id, data: JSON.stringify({ orderId: id, at }) })
    await controller.act('orders-kafka', 'start', { actor: 'test', force: true })
    for (let i = 1; i <= 4; i++) await publisher.publish(event(`k-${i}`, T0 + 1000 + i))
    clock = T0 + 10_000
    await controller.tick('orders-kafka')
    expect((await getState(store, 'orders-kafka')).stage).toBe('shadow')
    for (const id of ['lost-1', 'lost-2']) await old.publish(event(id, T0 + 12_000))
    await publisher.publish(event('k-5', T0 + 12_500))
    clock = T0 + 20_000
    await controller.tick('orders-kafka')
    expect((await getState(store, 'orders-kafka')).stage).toBe('rolled-back')
    const [file] = await readdir(join(dir, 'failures'))
    const report = JSON.parse(await readFile(join(dir, 'failures', file!), 'utf8')) as {
      evidence: { findings: { details: { events: { missing: string[] } } } }
    }
    expect(report.evidence.findings.details.events.missing.sort()).toEqual(['lost-1', 'lost-2'])
  }, 180_000)
})
