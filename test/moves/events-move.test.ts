// Must hold (SPEC 13): a NATS -> Redis events system with dualPublish: two events missing on the new side
// roll it back within two intervals plus the lag, their ids in the evidence; a broker that goes away
// mid-run makes the verdict inconclusive with a coded error, and the instance keeps serving.
import { readFile, readdir } from 'node:fs/promises'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dualPublish } from '../../src/events/dual-publish.js'
import { getWatermark } from '../../src/store/move-watermarks.js'
import { getState } from '../../src/store/system-state.js'
import { recentVerdicts } from '../../src/store/verdicts.js'
import { makeStream, type TestStream } from '../events/streams.js'
import { tandemConfig, type SystemInput } from '../support/config.js'
import { buildInstance } from '../support/instance.js'
import { temporaryDir } from '../support/temp-dir.js'

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0)

/** A loopback TCP relay to Redis that the test can cut, as a broker going away. */
async function relay(port: number): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => sockets.delete(s))
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    cut: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

describe('events system verified continuously (NATS -> Redis)', () => {
  const streams: TestStream[] = []
  afterAll(async () => {
    for (const s of streams) await s.drop()
  })

  it('rolls back on events missing on the new side and is inconclusive when a broker goes away', async () => {
    const dir = temporaryDir('tandem-move-ev-')
    const [old, neu, old2, neu2] = [
      await makeStream('nats'),
      await makeStream('redis'),
      await makeStream('nats'),
      await makeStream('redis'),
    ]
    streams.push(old, neu, old2, neu2)
    const cut = await relay(Number(new URL(neu2.url).port || 6379))
    const neu2Relayed = neu2.url.replace(/:\d+\//, `:${cut.port}/`)
    const system = (name: string, from: string, to: string): SystemInput => ({
      name,
      kind: 'events',
      events: { from, to, id: '/orderId', time: '/at', lag: '2s', bucket: '5s' },
      rollout: { steps: [{ shadow: '1h' }, { weight: 100 }] },
      analysis: { interval: '10s' },
    })
    let clock = T0
    const systems = [system('orders-events', old.url, neu.url), system('flaky-events', old2.url, neu2Relayed)]
    // The one composition root, with the controller on an injected clock; the test ticks it itself.
    const { controller, store } = await buildInstance(tandemConfig({ dir, systems }), {
      dir,
      controller: { healthChecks: false, failuresDir: join(dir, 'failures') },
      instance: { now: () => clock },
    })
    const publisher = dualPublish(old.stream, neu.stream)
    const event = (id: string, at: number) => ({ id, data: JSON.stringify({ orderId: id, at }) })
    await controller.act('orders-events', 'start', { actor: 'test', force: true })
    for (let i = 1; i <= 4; i++) await publisher.publish(event(`o-${i}`, T0 + 1000 + i))
    clock = T0 + 10_000
    await controller.tick('orders-events')
    expect((await getWatermark(store, 'orders-events'))?.verifiedThrough).toBe(T0 + 5000)

    for (let i = 5; i <= 7; i++) await publisher.publish(event(`o-${i}`, T0 + 11_000 + i))
    // Two events reach only the old broker.
    for (const id of ['lost-1', 'lost-2']) await old.stream.publish(event(id, T0 + 12_000))
    clock = T0 + 20_000
    await controller.tick('orders-events')
    expect((await getState(store, 'orders-events')).stage).toBe('rolled-back')
    const files = await readdir(join(dir, 'failures'))
    const report = JSON.parse(await readFile(join(dir, 'failures', files[0]!), 'utf8')) as {
      evidence: { findings: { window: unknown; details: { events: { missing: string[] } } } }
    }
    expect(report.evidence.findings.details.events.missing.sort()).toEqual(['lost-1', 'lost-2'])
    expect(report.evidence.findings.window).toEqual({ since: T0 + 5000, until: T0 + 15_000 })

    // The new broker goes away between two intervals: inconclusive, coded, still in shadow.
    await controller.act('flaky-events', 'start', { actor: 'test', force: true })
    await old2.stream.publish(event('f-1', clock + 1000))
    await neu2.stream.publish(event('f-1', clock + 1000))
    clock += 10_000
    await controller.tick('flaky-events')
    expect((await recentVerdicts(store, 'flaky-events', 1))[0]?.verdict).toBe('pass')
    await cut.cut()
    clock += 10_000
    await controller.tick('flaky-events')
    const [v] = await recentVerdicts(store, 'flaky-events', 1)
    expect(v?.verdict).toBe('inconclusive')
    expect(v?.evidence.reason).toMatch(/TANDEM_ERR_EVENTS_/)
    expect((await getState(store, 'flaky-events')).stage).toBe('shadow')
  }, 60_000)
})
