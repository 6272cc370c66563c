// The events-system rollback on Kafka (two librdkafka mock clusters): two events published only to the
// old cluster roll the system back within two intervals plus the lag, their ids in the failure report.
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dualPublish } from '../../src/events/dual-publish.js'
import type { EventStream } from '../../src/events/event-stream.js'
import { openStream } from '../../src/events/open-stream.js'
import { getState } from '../../src/store/system-state.js'
import { startMockCluster, type MockCluster } from '../events/kafka-cluster.js'
import { tandemConfig, type SystemInput } from '../support/config.js'
import { buildInstance } from '../support/instance.js'
import { temporaryDir } from '../support/temp-dir.js'

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0)

describe('events system verified continuously (Kafka -> Kafka)', () => {
  const clusters: MockCluster[] = []
  const streams: EventStream[] = []
  afterAll(async () => {
    for (const s of streams) await s.close()
    await Promise.all(clusters.map((c) => c.stop()))
  })

  it('rolls back on two events missing on the new cluster', async () => {
    const dir = temporaryDir('tandem-move-kafka-')
    clusters.push(...(await Promise.all([startMockCluster(), startMockCluster()])))
    const [oldUrl, newUrl] = [clusters[0]!.topicUrl(), clusters[1]!.topicUrl()]
    const old = await openStream(oldUrl, { create: true })
    const neu = await openStream(newUrl, { create: true })
    streams.push(old, neu)
    let clock = T0
    const system: SystemInput = {
      name: 'orders-kafka',
      kind: 'events',
      events: { from: oldUrl, to: newUrl, id: '/orderId', time: '/at', lag: '2s', bucket: '5s' },
      rollout: { steps: [{ shadow: '1h' }, { weight: 100 }] },
      analysis: { interval: '10s' },
    }
    // The one composition root, with the controller on an injected clock; the test ticks it itself.
    const { controller, store } = await buildInstance(tandemConfig({ dir, systems: [system] }), {
      dir,
      controller: { healthChecks: false, failuresDir: join(dir, 'failures') },
      instance: { now: () => clock },
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
