// `events verify` end to end on real brokers: a new stream built with messages dropped, duplicated and
// reordered on purpose is reported with exactly those ids, by the library and by the CLI (exit 0/1/2).
import { afterAll, describe, expect, it } from 'vitest'
import { SOURCE_TIME_HEADER, type EventStream } from '../../src/events/event-stream.js'
import { bridge } from '../../src/events/bridge.js'
import { verifyStreams } from '../../src/events/verify.js'
import { tandem } from '../support/cli.js'
import { makeStream, orderIds, publishOrders, type Kind, type TestStream, readAll } from './streams.js'

const pairs: Array<[Kind, Kind]> = [
  ['nats', 'redis'],
  ['amqp', 'nats'],
  ['redis', 'amqp'],
  ['nats', 'nats'],
]
const created: TestStream[] = []
afterAll(async () => {
  for (const s of created) await s.drop()
})

/**
 * Copies `old` into `neu` with defects: drops, extra copies (new broker ids, same orderId), a foreign id,
 * reordering.
 */
async function copyWithDefects(
  old: EventStream,
  neu: EventStream,
  defects: { drop: string[]; duplicate: string[]; extra: string[] },
): Promise<void> {
  const events = await readAll(old)
  const copies: Array<{ id: string; data: Uint8Array | string; headers: Record<string, string> }> = []
  for (const e of events) {
    const orderId = JSON.parse(Buffer.from(e.data).toString()).orderId as string
    const headers = { [SOURCE_TIME_HEADER]: String(e.time) }
    if (defects.drop.includes(orderId)) continue
    copies.push({ id: orderId, data: e.data, headers })
    if (defects.duplicate.includes(orderId)) copies.push({ id: `${orderId}-again`, data: e.data, headers })
  }
  const t0 = events[0]!.time
  for (const x of defects.extra)
    copies.push({ id: x, data: JSON.stringify({ orderId: x }), headers: { [SOURCE_TIME_HEADER]: String(t0) } })
  // Reorder: reverse every block of 7.
  const reordered: typeof copies = []
  for (let i = 0; i < copies.length; i += 7) reordered.push(...copies.slice(i, i + 7).reverse())
  for (const c of reordered) await neu.publish(c)
}

describe.each(pairs)('%s -> %s', (fromKind, toKind) => {
  it('reports exactly the dropped, duplicated and foreign ids, and nothing for reordering', async () => {
    const old = await makeStream(fromKind)
    const neu = await makeStream(toKind)
    created.push(old, neu)
    await publishOrders(old.stream, orderIds(240))
    await copyWithDefects(old.stream, neu.stream, {
      drop: ['o-3', 'o-118', 'o-239'],
      duplicate: ['o-0', 'o-77'],
      extra: ['ghost-1'],
    })
    const report = await verifyStreams({ from: old.url, to: neu.url, id: '/orderId', bucketMs: 1000, maxIds: 50 })
    expect(report.missing).toEqual(['o-118', 'o-239', 'o-3'])
    expect(report.extra).toEqual(['ghost-1'])
    expect(report.duplicates).toEqual([
      { id: 'o-0', old: 1, new: 2 },
      { id: 'o-77', old: 1, new: 2 },
    ])
    expect(report.ok).toBe(false)
    expect(report.counts).toEqual({ old: 240, new: 240 - 3 + 2 + 1 })
  }, 120_000)

  it('a clean bridge verifies with exit 0 through the CLI; tampering afterwards exits 1 with the ids', async () => {
    const old = await makeStream(fromKind)
    const neu = await makeStream(toKind)
    created.push(old, neu)
    await publishOrders(old.stream, orderIds(150, 'b'))
    const copied = await bridge({ from: old.url, to: neu.url, untilIdle: true, batch: 40 })
    expect(copied.copied).toBe(150)
    const clean = await tandem(['events', 'verify', '--from', old.url, '--to', neu.url, '--id', 'message-id', '--json'])
    expect(clean.stderr).toBe('')
    expect(clean.code).toBe(0)
    expect(JSON.parse(clean.stdout)).toMatchObject({
      ok: true,
      missing: [],
      extra: [],
      duplicates: [],
      counts: { old: 150, new: 150 },
    })
    await neu.stream.publish({
      id: 'b-7',
      data: JSON.stringify({ orderId: 'b-7' }),
      headers: { [SOURCE_TIME_HEADER]: String(Date.now()) },
    })
    await neu.stream.publish({
      id: 'late-1',
      data: JSON.stringify({ orderId: 'late-1' }),
      headers: { [SOURCE_TIME_HEADER]: String(Date.now()) },
    })
    const dirty = await tandem(['events', 'verify', '--from', old.url, '--to', neu.url, '--id', '/orderId', '--json'])
    expect(dirty.code).toBe(1)
    const r = JSON.parse(dirty.stdout)
    expect(r.extra).toEqual(['late-1'])
    expect(r.missing).toEqual([])
    // NATS drops a republished Nats-Msg-Id inside its dedup window: then b-7 is not duplicated at all.
    expect(r.duplicates).toEqual(toKind === 'nats' ? [] : [{ id: 'b-7', old: 1, new: 2 }])
  }, 120_000)
})

describe('events verify usage errors', () => {
  it('exits 2 with a coded error for a bad URL or --id', async () => {
    const bad = await tandem([
      'events',
      'verify',
      '--from',
      'kafka://x/y',
      '--to',
      'redis://127.0.0.1:6379/0?stream=a',
      '--id',
      '/id',
      '--json',
    ])
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout).error.code).toBe('TANDEM_ERR_EVENTS_URL')
    const badId = await tandem([
      'events',
      'verify',
      '--from',
      'redis://127.0.0.1:6379/0?stream=a',
      '--to',
      'redis://127.0.0.1:6379/0?stream=b',
      '--id',
      'orderId',
    ])
    expect(badId.code).toBe(2)
    expect(badId.stderr).toContain('TANDEM_ERR_EVENTS_EXTRACTOR')
  }, 60_000)
})
