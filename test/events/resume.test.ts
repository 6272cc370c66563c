// Moving consumers and surviving restarts: a consumer resumed at the mapped position misses nothing, and a
// bridge killed mid-way (in-process limit, or SIGKILL of the CLI) resumes from its checkpoint without loss.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { bridge } from '../../src/events/bridge.js'
import { dualPublish, replay } from '../../src/events/dual-publish.js'
import { SOURCE_TIME_HEADER } from '../../src/events/event-stream.js'
import { mapPosition } from '../../src/events/map-position.js'
import { verifyStreams } from '../../src/events/verify.js'
import { tandem } from '../support/cli.js'
import {
  bridgeKilledMidway,
  makeStream,
  orderIds,
  publishOrders,
  readAll,
  resumeBridge,
  type Kind,
  type TestStream,
} from './streams.js'

const created: TestStream[] = []
const dirs: string[] = []
afterAll(async () => {
  for (const s of created) await s.drop()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tandem-events-'))
  dirs.push(d)
  return d
}

const pairs: Array<[Kind, Kind]> = [
  ['nats', 'redis'],
  ['amqp', 'nats'],
  ['redis', 'amqp'],
]

describe.each(pairs)('map-position %s -> %s', (fromKind, toKind) => {
  it('a consumer resumed at the mapped position sees every message after its old position', async () => {
    const old = await makeStream(fromKind)
    const neu = await makeStream(toKind)
    created.push(old, neu)
    await publishOrders(old.stream, orderIds(120, 'm'))
    // The new stream has its own positions: 30 messages bridged earlier (an hour older), then this bridge.
    await publishOrders(neu.stream, orderIds(30, 'noise'), { [SOURCE_TIME_HEADER]: String(Date.now() - 3_600_000) })
    await bridge({ from: old.url, to: neu.url, untilIdle: true, batch: 25 })
    const oldEvents = await readAll(old.stream)
    for (const k of [0, 41, 118]) {
      const p = oldEvents[k]!.position
      const mapped = await mapPosition({ from: old.url, to: neu.url, position: p })
      expect(mapped.newPosition).not.toBeNull()
      const startAfter = mapped.resumeAfter ?? undefined
      const resumed = new Set((await readAll(neu.stream, startAfter)).map((e) => e.messageId))
      expect(resumed.has(oldEvents[k + 1]!.messageId)).toBe(true)
      for (const e of oldEvents.slice(k + 1)) expect(resumed.has(e.messageId), `${e.messageId} after ${p}`).toBe(true)
      // At-least-once, not from the start: the mapped position skips the 30 noise messages and what precedes p.
      expect(resumed.has('noise-0')).toBe(false)
      expect(resumed.has(oldEvents[k]!.messageId)).toBe(false)
    }
    // The last old message: nothing after it yet; resume after the new stream's end.
    const last = await mapPosition({ from: old.url, to: neu.url, position: oldEvents[119]!.position })
    expect(last.newPosition).toBeNull()
    expect(last.resumeAfter).toBe(await neu.stream.end())
  }, 120_000)
})

describe('map-position on the CLI', () => {
  it('prints the position as JSON and rejects a malformed one with exit 2', async () => {
    const old = await makeStream('nats')
    const neu = await makeStream('redis')
    created.push(old, neu)
    await publishOrders(old.stream, orderIds(20, 'c'))
    await bridge({ from: old.url, to: neu.url, untilIdle: true })
    const run = await tandem([
      'events',
      'map-position',
      '--from',
      old.url,
      '--to',
      neu.url,
      '--position',
      '5',
      '--json',
    ])
    expect(run.code).toBe(0)
    const out = JSON.parse(run.stdout)
    const newEvents = await readAll(neu.stream)
    expect(out.newPosition).toBe(newEvents[5]!.position)
    const bad = await tandem([
      'events',
      'map-position',
      '--from',
      old.url,
      '--to',
      neu.url,
      '--position',
      'abc',
      '--json',
    ])
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout).error.code).toBe('TANDEM_ERR_EVENTS_POSITION')
  }, 120_000)
})

describe('bridge restarts', () => {
  it('resumes from the checkpoint after an in-process stop, copying each message once (redis -> nats)', async () => {
    const old = await makeStream('redis')
    const neu = await makeStream('nats')
    created.push(old, neu)
    const checkpoint = join(await tempDir(), 'cp.json')
    await publishOrders(old.stream, orderIds(300, 'r'))
    const first = await bridge({ from: old.url, to: neu.url, checkpoint, batch: 50, limit: 120 })
    expect(first.copied).toBe(150)
    const saved = JSON.parse(await readFile(checkpoint, 'utf8'))
    expect(saved.position).toBe(first.position)
    const second = await bridge({ from: old.url, to: neu.url, checkpoint, batch: 50, untilIdle: true })
    expect(second.resumedFrom).toBe(first.position)
    expect(second.copied).toBe(150)
    const report = await verifyStreams({ from: old.url, to: neu.url, id: 'message-id' })
    expect(report).toMatchObject({ ok: true, counts: { old: 300, new: 300 } })
  }, 120_000)

  it(
    'survives SIGKILL of the CLI bridge mid-way: restarted, ' + 'it completes and verifies clean (amqp -> nats)',
    async () => {
      const old = await makeStream('amqp')
      const neu = await makeStream('nats')
      created.push(old, neu)
      const checkpoint = join(await tempDir(), 'cp.json')
      await publishOrders(old.stream, orderIds(3000, 'k'))
      // Killed as soon as it has acknowledged a few batches.
      const saved = await bridgeKilledMidway(old.url, neu.url, checkpoint)
      expect(Number(saved.position)).toBeLessThan(2999)
      const rest = await resumeBridge(old.url, neu.url, checkpoint)
      expect(rest.code).toBe(0)
      expect(JSON.parse(rest.stdout).resumedFrom).toBe(saved.position)
      const report = await verifyStreams({ from: old.url, to: neu.url, id: 'message-id' })
      expect(report.missing).toEqual([])
      expect(report.extra).toEqual([])
      // Nats-Msg-Id deduplication absorbs the batch that was in flight at the kill.
      expect(report.duplicates).toEqual([])
      expect(report.counts).toEqual({ old: 3000, new: 3000 })
    },
    180_000,
  )
})

describe('dualPublish', () => {
  it('publishes to both; a failing new broker is logged and replayed, the old one stays authoritative', async () => {
    const old = await makeStream('nats')
    const neu = await makeStream('redis')
    created.push(old, neu)
    const log = join(await tempDir(), 'replay.jsonl')
    const dp = dualPublish(old.stream, neu.stream, { replayLog: log })
    const outcomes = []
    for (const id of orderIds(10, 'd')) outcomes.push(await dp.publish({ id, data: JSON.stringify({ orderId: id }) }))
    expect(outcomes.every((o) => o.old === 'ok' && o.new === 'ok')).toBe(true)
    // The new broker goes away: old still gets everything, the new side's failures go to the log.
    await neu.stream.close()
    const during = []
    for (const id of orderIds(5, 'x')) during.push(await dp.publish({ id, data: JSON.stringify({ orderId: id }) }))
    expect(during.map((o) => o.new)).toEqual(['error', 'error', 'error', 'error', 'error'])
    const before = await verifyStreams({ from: old.url, to: neu.url, id: '/orderId' })
    expect(before.missing).toEqual(orderIds(5, 'x'))
    const reopened = await (await import('../../src/events/open-stream.js')).openStream(neu.url)
    expect(await replay(log, reopened)).toBe(5)
    await reopened.close()
    const after = await verifyStreams({ from: old.url, to: neu.url, id: '/orderId' })
    expect(after.ok).toBe(true)
    // An old-broker failure is the caller's failure; nothing goes to the new broker.
    await old.stream.close()
    await expect(dp.publish({ id: 'z', data: '{}' })).rejects.toMatchObject({ code: 'TANDEM_ERR_EVENTS_PUBLISH' })
  }, 120_000)
})
