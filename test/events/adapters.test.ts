// Each adapter against its real broker: publish keeps ids and headers, reads come back in order in
// bounded batches, from a position or a time, and `at`/`end` agree with what was published.
import { afterAll, describe, expect, it } from 'vitest'
import { makeStream, orderIds, publishOrders, type Kind, type TestStream } from './streams.js'

const kinds: Kind[] = ['nats', 'amqp', 'redis']
const created: TestStream[] = []
afterAll(async () => {
  for (const s of created) await s.drop()
})

describe.each(kinds)('%s adapter', (kind) => {
  it('reads back every message in order with id, headers and time, in bounded batches', async () => {
    const t = await makeStream(kind)
    created.push(t)
    const before = Date.now()
    const ids = orderIds(25)
    await publishOrders(t.stream, ids, { 'x-trace': 'abc' })
    const seen: string[] = []
    const positions: string[] = []
    for await (const batch of t.stream.read({ batch: 7 })) {
      expect(batch.length).toBeLessThanOrEqual(7)
      for (const e of batch) {
        seen.push(e.messageId ?? '?')
        positions.push(e.position)
        expect(e.headers['x-trace']).toBe('abc')
        expect(JSON.parse(Buffer.from(e.data).toString()).orderId).toBe(e.messageId)
        expect(e.time).toBeGreaterThanOrEqual(before - 2000)
      }
    }
    expect(seen).toEqual(ids)
    const end = await t.stream.end()
    expect(end).toBe(positions[positions.length - 1])
    // Reading after a position resumes exactly after it.
    const rest: string[] = []
    for await (const batch of t.stream.read({ after: positions[9]! })) for (const e of batch) rest.push(e.messageId!)
    expect(rest).toEqual(ids.slice(10))
    const at = await t.stream.at(positions[3]!)
    expect(at?.messageId).toBe(ids[3])
  }, 60_000)

  it('an empty stream has no end and reads nothing', async () => {
    const t = await makeStream(kind)
    created.push(t)
    expect(await t.stream.end()).toBeUndefined()
    let n = 0
    for await (const batch of t.stream.read()) n += batch.length
    expect(n).toBe(0)
  }, 60_000)
})
