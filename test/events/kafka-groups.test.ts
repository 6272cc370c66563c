// Moving Kafka consumers and surviving restarts, on two librdkafka mock clusters: a group that consumed
// part of the old topic resumes on the new cluster after `map-position --group --commit` and misses
// nothing; a CLI bridge killed with SIGKILL resumes from its per-partition checkpoint without loss.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bridge } from '../../src/events/bridge.js'
import { SOURCE_TIME_HEADER, type EventStream } from '../../src/events/event-stream.js'
import { openStream } from '../../src/events/open-stream.js'
import { verifyStreams } from '../../src/events/verify.js'
import { tandem } from '../support/cli.js'
import { startMockCluster, type MockCluster } from './kafka-cluster.js'
import { bridgeKilledMidway, orderIds, publishOrders, readAll, resumeBridge } from './streams.js'

let oldCluster: MockCluster
let newCluster: MockCluster
const opened: EventStream[] = []
const dirs: string[] = []
beforeAll(async () => {
  ;[oldCluster, newCluster] = await Promise.all([startMockCluster(), startMockCluster()])
}, 60_000)
afterAll(async () => {
  for (const s of opened) await s.close()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
  await Promise.all([oldCluster?.stop(), newCluster?.stop()])
})

async function open(url: string): Promise<EventStream> {
  const s = await openStream(url, { create: true })
  opened.push(s)
  return s
}

const client = (bootstrap: string): Kafka =>
  new Kafka({ clientId: 'test', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING })
const topicOf = (url: string): string => url.slice(url.lastIndexOf('/') + 1)

/**
 * A consumer of `group` reads every partition up to `stopAt(partition)` (exclusive offsets), commits what
 * it processed, and returns the ids it saw. The real KafkaJS group protocol, as an application would.
 */
async function consume(
  bootstrap: string,
  topic: string,
  group: string,
  stopAt: (partition: number, high: bigint) => bigint,
): Promise<string[]> {
  const kafka = client(bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  const highs = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]))
  const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
  await admin.disconnect()
  const targets = new Map([...highs].map(([p, h]) => [p, stopAt(p, h)]))
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 })
  const seen: string[] = []
  // A partition whose committed offset is already at its target has nothing to deliver.
  const done = new Set(
    (committed?.partitions ?? []).filter((c) => BigInt(c.offset) >= targets.get(c.partition)!).map((c) => c.partition),
  )
  const commits: Array<{ topic: string; partition: number; offset: string }> = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`group ${group} did not reach its offsets`)), 90_000)
    const check = (): void => {
      if ([...targets].every(([p, t]) => done.has(p) || t <= 0n)) {
        clearTimeout(timer)
        resolve()
      }
    }
    consumer.on(consumer.events.GROUP_JOIN, check)
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, pause }) => {
        const target = targets.get(batch.partition)!
        let next: bigint | undefined
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= target) break
          seen.push(m.headers?.['x-tandem-id']?.toString() ?? '')
          next = BigInt(m.offset) + 1n
        }
        if (next !== undefined) commits.push({ topic, partition: batch.partition, offset: String(next) })
        if (
          (next ?? BigInt(batch.messages[0]?.offset ?? 0)) >= target ||
          BigInt(batch.messages[batch.messages.length - 1]?.offset ?? -1) + 1n >= target
        ) {
          done.add(batch.partition)
          pause()
        }
        check()
      },
    })
  })
  if (commits.length > 0) await consumer.commitOffsets(commits)
  await consumer.disconnect()
  return seen
}

describe('Kafka map-position --group', () => {
  it(
    'after --commit, the group on the new cluster reads ' + 'every message it had not consumed on the old one',
    async () => {
      const oldUrl = oldCluster.topicUrl('moving')
      const newUrl = newCluster.topicUrl('moving')
      const old = await open(oldUrl)
      const neu = await open(newUrl)
      // The new topic already holds messages an hour older than anything the group has not consumed.
      await publishOrders(neu, orderIds(40, 'noise'), { [SOURCE_TIME_HEADER]: String(Date.now() - 3_600_000) })
      await publishOrders(old, orderIds(800, 'm'))
      // The group consumed a different share of each partition (all of 0, none of 3).
      const share = [1, 0.5, 0.25, 0]
      const consumed = await consume(
        oldCluster.bootstrap,
        topicOf(oldUrl),
        'billing',
        (p, high) => (high * BigInt(Math.round(share[p]! * 100))) / 100n,
      )
      const all = (await readAll(old)).map((e) => e.messageId!)
      const unconsumed = all.filter((id) => !consumed.includes(id))
      expect(consumed.length).toBeGreaterThan(100)
      expect(unconsumed.length).toBeGreaterThan(100)
      await bridge({ from: oldUrl, to: newUrl, untilIdle: true, batch: 200 })

      const run = await tandem([
        'events',
        'map-position',
        '--from',
        oldUrl,
        '--to',
        newUrl,
        '--group',
        'billing',
        '--commit',
        '--json',
      ])
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      const mapped = JSON.parse(run.stdout)
      expect(mapped).toMatchObject({ group: 'billing', committed: true, unconsumed: unconsumed.length })
      expect(mapped.source).toHaveLength(4)
      expect(mapped.target).toHaveLength(4)

      // The group on the new cluster, from the committed offsets to the end.
      const resumed = await consume(newCluster.bootstrap, topicOf(newUrl), 'billing', (_p, high) => high)
      for (const id of unconsumed) expect(resumed, id).toContain(id)
      const repeated = resumed.filter((id) => consumed.includes(id))
      expect(repeated.length).toBe(mapped.redeliveries)
      expect(resumed.filter((id) => id.startsWith('noise-'))).toEqual([])
      // At-least-once, but not from the start: most of what the group consumed is not delivered again.
      expect(repeated.length).toBeLessThan(consumed.length)
    },
    240_000,
  )
})

describe('Kafka bridge restarts', () => {
  it('survives SIGKILL of the CLI bridge mid-way: restarted from its checkpoint, nothing is missing', async () => {
    const oldUrl = oldCluster.topicUrl('killed')
    const newUrl = newCluster.topicUrl('killed')
    await publishOrders(await open(oldUrl), orderIds(3000, 'k'))
    const dir = await mkdtemp(join(tmpdir(), 'tandem-kafka-'))
    dirs.push(dir)
    const checkpoint = join(dir, 'cp.json')
    const saved = await bridgeKilledMidway(oldUrl, newUrl, checkpoint)
    expect(saved.position).toMatch(/^0:-?\d+,1:-?\d+,2:-?\d+,3:-?\d+$/)
    expect(saved.copied).toBeLessThan(3000)
    const rest = await resumeBridge(oldUrl, newUrl, checkpoint)
    expect(rest.code).toBe(0)
    expect(JSON.parse(rest.stdout).resumedFrom).toBe(saved.position)
    const report = await verifyStreams({ from: oldUrl, to: newUrl, id: 'message-id' })
    expect(report.missing).toEqual([])
    expect(report.extra).toEqual([])
    // Only the batch in flight at the kill can be copied twice (Kafka has no id deduplication).
    expect(report.duplicates.length).toBeLessThanOrEqual(100)
    expect(report.counts.old).toBe(3000)
  }, 240_000)
})
