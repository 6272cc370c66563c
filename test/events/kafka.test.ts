// Kafka end to end on two librdkafka mock clusters (old and new): exact verification across 4 partitions,
// bridges Kafka -> Kafka and to/from Redis keeping key, headers and timestamp, dualPublish, coded errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bridge } from '../../src/events/bridge.js'
import { dualPublish } from '../../src/events/dual-publish.js'
import { SOURCE_TIME_HEADER, type EventStream, type StoredEvent } from '../../src/events/event-stream.js'
import { openStream } from '../../src/events/open-stream.js'
import { verifyStreams } from '../../src/events/verify.js'
import { tandem } from '../support/cli.js'
import { startMockCluster, type MockCluster } from './kafka-cluster.js'
import { makeStream, orderIds, publishOrders, type TestStream, readAll } from './streams.js'

let oldCluster: MockCluster
let newCluster: MockCluster
const opened: EventStream[] = []
const created: TestStream[] = []
beforeAll(async () => {
  ;[oldCluster, newCluster] = await Promise.all([startMockCluster(), startMockCluster()])
}, 60_000)
afterAll(async () => {
  for (const s of opened) await s.close()
  for (const s of created) await s.drop()
  await Promise.all([oldCluster?.stop(), newCluster?.stop()])
})

async function open(url: string): Promise<EventStream> {
  const s = await openStream(url, { create: true })
  opened.push(s)
  return s
}

const orderId = (e: StoredEvent): string => JSON.parse(Buffer.from(e.data).toString()).orderId as string
const partitionOf = (e: StoredEvent): string => e.position.split(':')[0]!

describe('Kafka verify', () => {
  it(
    '2 000 messages over 4 partitions: exactly the 7 dropped, 3 ' +
      'duplicated and 2 extra ids, exit 1; after a bridge, exit 0',
    async () => {
      const oldUrl = oldCluster.topicUrl()
      const old = await open(oldUrl)
      await publishOrders(old, orderIds(2000))
      const events = await readAll(old)
      expect(events).toHaveLength(2000)
      expect(new Set(events.map(partitionOf))).toEqual(new Set(['0', '1', '2', '3']))
      const dropped = ['o-0', 'o-13', 'o-500', 'o-999', 'o-1000', 'o-1500', 'o-1999']
      const duplicated = ['o-7', 'o-808', 'o-1777']
      const newUrl = newCluster.topicUrl()
      const neu = await open(newUrl)
      const copies = []
      for (const e of events) {
        const id = orderId(e)
        if (dropped.includes(id)) continue
        const copy = { id, data: e.data, key: e.key!, headers: { ...e.headers, [SOURCE_TIME_HEADER]: String(e.time) } }
        copies.push(copy)
        if (duplicated.includes(id)) copies.push(copy)
      }
      for (const x of ['ghost-1', 'ghost-2'])
        copies.push({
          id: x,
          data: JSON.stringify({ orderId: x }),
          key: x,
          headers: { [SOURCE_TIME_HEADER]: String(events[0]!.time) },
        })
      await Promise.all(copies.map((c) => neu.publish(c)))

      const run = await tandem([
        'events',
        'verify',
        '--from',
        oldUrl,
        '--to',
        newUrl,
        '--id',
        '/orderId',
        '--bucket',
        '1s',
        '--json',
      ])
      expect(run.stderr).toBe('')
      expect(run.code).toBe(1)
      const report = JSON.parse(run.stdout)
      expect(report.missing).toEqual([...dropped].sort())
      expect(report.extra).toEqual(['ghost-1', 'ghost-2'])
      expect(report.duplicates).toEqual([...duplicated].sort().map((id) => ({ id, old: 1, new: 2 })))
      expect(report.counts).toEqual({ old: 2000, new: 2000 - 7 + 3 + 2 })

      const cleanUrl = newCluster.topicUrl('clean')
      const copied = await bridge({ from: oldUrl, to: cleanUrl, untilIdle: true, batch: 300 })
      expect(copied.copied).toBe(2000)
      const clean = await tandem([
        'events',
        'verify',
        '--from',
        oldUrl,
        '--to',
        cleanUrl,
        '--id',
        'message-id',
        '--json',
      ])
      expect(clean.code).toBe(0)
      expect(JSON.parse(clean.stdout)).toMatchObject({
        ok: true,
        missing: [],
        extra: [],
        duplicates: [],
        counts: { old: 2000, new: 2000 },
      })

      // The bridge kept key, headers and record timestamp, and partitioned by key like the old cluster.
      const byId = new Map((await readAll(await open(cleanUrl))).map((e) => [e.messageId, e]))
      for (const e of events.slice(0, 50)) {
        const c = byId.get(e.messageId)!
        expect(Buffer.from(c.key!).toString()).toBe(Buffer.from(e.key!).toString())
        expect(c.time).toBe(e.time)
        expect(c.headers[SOURCE_TIME_HEADER]).toBe(String(e.time))
        expect(partitionOf(c)).toBe(partitionOf(e))
      }
    },
    180_000,
  )

  it('ids from the record key and from a header work as well as a JSON path', async () => {
    const url = oldCluster.topicUrl('keys')
    const s = await open(url)
    await Promise.all(
      orderIds(40, 'k').map((id) => s.publish({ id, key: `key-${id}`, data: '{}', headers: { 'order-id': id } })),
    )
    const copy = newCluster.topicUrl('keys')
    await bridge({ from: url, to: copy, untilIdle: true })
    for (const id of ['key', 'header:order-id'])
      expect((await verifyStreams({ from: url, to: copy, id })).ok).toBe(true)
    // One message by its partition:offset; past a partition's end there is none (and no wait for one).
    const [first] = await readAll(s)
    expect((await s.at(first!.position))?.messageId).toBe(first!.messageId)
    expect(await s.at('0:999999')).toBeUndefined()
    await expect(s.at('0:1,1:2')).rejects.toMatchObject({ code: 'TANDEM_ERR_EVENTS_POSITION' })
  }, 120_000)
})

describe('Kafka with the other brokers', () => {
  it('bridges Redis -> Kafka -> Redis and verifies each hop; dualPublish with Kafka on either side', async () => {
    const redisOld = await makeStream('redis')
    const redisBack = await makeStream('redis')
    created.push(redisOld, redisBack)
    await publishOrders(redisOld.stream, orderIds(300, 'r'))
    const kafkaUrl = newCluster.topicUrl('from-redis')
    expect((await bridge({ from: redisOld.url, to: kafkaUrl, untilIdle: true, batch: 100 })).copied).toBe(300)
    expect(await verifyStreams({ from: redisOld.url, to: kafkaUrl, id: '/orderId' })).toMatchObject({
      ok: true,
      counts: { old: 300, new: 300 },
    })
    expect((await bridge({ from: kafkaUrl, to: redisBack.url, untilIdle: true, batch: 100 })).copied).toBe(300)
    expect(await verifyStreams({ from: kafkaUrl, to: redisBack.url, id: 'message-id' })).toMatchObject({
      ok: true,
      counts: { old: 300, new: 300 },
    })

    const kafkaOld = await open(oldCluster.topicUrl('dual'))
    const kafkaNew = await open(newCluster.topicUrl('dual'))
    for (const [a, b] of [
      [kafkaOld, kafkaNew],
      [kafkaOld, redisBack.stream],
      [redisBack.stream, kafkaNew],
    ] as const) {
      const dp = dualPublish(a, b)
      const outcomes = await Promise.all(
        orderIds(25, `d${opened.length}`).map((id) => dp.publish({ id, data: JSON.stringify({ orderId: id }) })),
      )
      expect(outcomes.every((o) => o.old === 'ok' && o.new === 'ok')).toBe(true)
    }
    expect(await verifyStreams({ from: kafkaOld.url, to: kafkaNew.url, id: '/orderId' })).toMatchObject({
      ok: true,
      counts: { old: 50, new: 50 },
    })
  }, 180_000)
})

describe('Kafka bad input', () => {
  it('an unreachable broker, an unknown topic and a record without the id are coded errors with exit 2', async () => {
    const known = oldCluster.topicUrl('bad')
    const s = await open(known)
    await s.publish({ id: 'a-1', data: JSON.stringify({ orderId: 'a-1' }) })
    await s.publish({ id: 'a-2', data: JSON.stringify({ other: 1 }) })
    const cases: Array<[string, string]> = [
      ['kafka://127.0.0.1:9/orders', 'TANDEM_ERR_EVENTS_CONNECT'],
      [`kafka://${oldCluster.bootstrap}/no-such-topic`, 'TANDEM_ERR_EVENTS_NOT_FOUND'],
      [known, 'TANDEM_ERR_EVENTS_NO_ID'],
    ]
    for (const [from, code] of cases) {
      const run = await tandem(['events', 'verify', '--from', from, '--to', known, '--id', '/orderId', '--json'])
      expect(run.code, from).toBe(2)
      expect(JSON.parse(run.stdout).error.code).toBe(code)
    }
    // A reader never creates the topic it was told to read.
    const again = await tandem([
      'events',
      'verify',
      '--from',
      `kafka://${oldCluster.bootstrap}/no-such-topic`,
      '--to',
      known,
      '--id',
      '/orderId',
      '--json',
    ])
    expect(JSON.parse(again.stdout).error.code).toBe('TANDEM_ERR_EVENTS_NOT_FOUND')
    const noGroup = await tandem([
      'events',
      'map-position',
      '--from',
      known,
      '--to',
      known,
      '--group',
      'nobody',
      '--json',
    ])
    expect(noGroup.code).toBe(2)
    expect(JSON.parse(noGroup.stdout).error.code).toBe('TANDEM_ERR_EVENTS_GROUP')
  }, 120_000)
})
