// Regression (issue 12, defect 9): stream URLs that name nothing readable. A missing Redis stream, an
// out-of-range Redis database, a key that is not a stream, a NATS ?subject= outside the stream and an
// inverted --since/--until each end `events verify`, `bridge` and `map-position` with a coded error
// (exit 2), never "no loss" (exit 0) or TANDEM_ERR_INTERNAL with a stack.
import amqp from 'amqplib'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStream } from '../../src/events/open-stream.js'
import { tandem, type CliRun } from '../support/cli.js'
import { services, uniqueName } from '../support/services.js'
import { makeStream, orderIds, publishOrders, type TestStream } from './streams.js'

const redisUrl = (key: string, db = 0): string => `${services.redis}/${db}?stream=${key}`

function errorOf(r: CliRun): { code: string; message: string } {
  expect(r.code).toBe(2)
  expect(r.stderr).not.toMatch(/\n\s+at /)
  return (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error
}

describe('stream URLs that name nothing readable', { timeout: 120_000 }, () => {
  const redis = new Redis(services.redis)
  const stringKey = uniqueName('ev_string')
  const missing = uniqueName('ev_missing')
  const created: TestStream[] = []
  let nats: TestStream
  let red: TestStream
  let outside: string

  beforeAll(async () => {
    await redis.set(stringKey, 'not a stream')
    nats = await makeStream('nats')
    red = await makeStream('redis')
    created.push(nats, red)
    await publishOrders(nats.stream, orderIds(5))
    await publishOrders(red.stream, orderIds(5))
    // The test NATS stream stores `<name>.>`; this filter matches none of it.
    outside = nats.url.replace(/\?subject=.*$/, '?subject=elsewhere.events')
  })
  afterAll(async () => {
    await redis.del(stringKey, missing)
    await redis.quit()
    for (const s of created) await s.drop()
  })

  const verify = (from: string, to: string, ...extra: string[]): Promise<CliRun> =>
    tandem(['events', 'verify', '--from', from, '--to', to, '--id', '/orderId', '--json', ...extra])

  it('verify: a Redis stream missing on both sides is TANDEM_ERR_EVENTS_NOT_FOUND naming the old one', async () => {
    const e = errorOf(await verify(redisUrl(missing), redisUrl(`${missing}_new`)))
    expect(e.code).toBe('TANDEM_ERR_EVENTS_NOT_FOUND')
    expect(e.message).toContain(`"${missing}"`)
  })

  it('verify: a Redis stream missing on the new side only is TANDEM_ERR_EVENTS_NOT_FOUND', async () => {
    const e = errorOf(await verify(red.url, redisUrl(missing)))
    expect(e.code).toBe('TANDEM_ERR_EVENTS_NOT_FOUND')
  })

  it('verify: Redis database 99999 is TANDEM_ERR_EVENTS_REDIS_DB, not a read of database 0', async () => {
    const key = new URL(red.url).searchParams.get('stream') as string
    const e = errorOf(await verify(redisUrl(key, 99999), red.url))
    expect(e.code).toBe('TANDEM_ERR_EVENTS_REDIS_DB')
    expect(e.message).toContain('99999')
  })

  it('verify: a Redis key that is not a stream is TANDEM_ERR_EVENTS_WRONG_TYPE naming its type', async () => {
    const e = errorOf(await verify(redisUrl(stringKey), red.url))
    expect(e.code).toBe('TANDEM_ERR_EVENTS_WRONG_TYPE')
    expect(e.message).toContain('is a Redis string, not a stream')
  })

  it(
    'verify: a NATS ?subject= outside the stream is ' + 'TANDEM_ERR_EVENTS_SUBJECT listing the stream subjects',
    async () => {
      const e = errorOf(await verify(outside, nats.url))
      expect(e.code).toBe('TANDEM_ERR_EVENTS_SUBJECT')
      expect(e.message).toContain('"elsewhere.events"')
      expect(e.message).toMatch(/stores "ev_[^"]+\.>"/)
    },
  )

  it('verify: --since after --until is a usage error', async () => {
    const e = errorOf(
      await verify(red.url, red.url, '--since', '2025-01-02T00:00:00Z', '--until', '2025-01-01T00:00:00Z'),
    )
    expect(e.code).toBe('TANDEM_ERR_USAGE')
    expect(e.message).toContain('--since (2025-01-02T00:00:00.000Z) must be before --until')
  })

  it('verify still passes on the same streams with a valid window', async () => {
    const r = await verify(red.url, red.url, '--since', '1h')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, counts: { old: 5, new: 5 } })
  })

  it(
    'bridge: a missing source, a non-stream, an unknown ' + 'database or an outside subject as target are coded',
    async () => {
      const bridge = (from: string, to: string): Promise<CliRun> =>
        tandem(['events', 'bridge', '--from', from, '--to', to, '--until-idle', '--json'])
      expect(errorOf(await bridge(redisUrl(missing), redisUrl(`${missing}_copy`))).code).toBe(
        'TANDEM_ERR_EVENTS_NOT_FOUND',
      )
      expect(errorOf(await bridge(outside, redisUrl(`${missing}_copy`))).code).toBe('TANDEM_ERR_EVENTS_SUBJECT')
      expect(errorOf(await bridge(nats.url, redisUrl(stringKey))).code).toBe('TANDEM_ERR_EVENTS_WRONG_TYPE')
      expect(errorOf(await bridge(nats.url, redisUrl(`${missing}_copy`, 99999))).code).toBe(
        'TANDEM_ERR_EVENTS_REDIS_DB',
      )
      expect(errorOf(await bridge(nats.url, outside)).code).toBe('TANDEM_ERR_EVENTS_SUBJECT')
      expect(await redis.exists(`${missing}_copy`)).toBe(0)
      expect(await redis.get(stringKey)).toBe('not a stream')
    },
  )

  it('map-position: a missing Redis stream on either side and an outside subject are coded', async () => {
    const map = (from: string, to: string, position: string): Promise<CliRun> =>
      tandem([
        'events',
        'map-position',
        '--from',
        from,
        '--to',
        to,
        '--position',
        position,
        '--id',
        '/orderId',
        '--json',
      ])
    expect(errorOf(await map(redisUrl(missing), nats.url, '1-0')).code).toBe('TANDEM_ERR_EVENTS_NOT_FOUND')
    expect(errorOf(await map(nats.url, redisUrl(missing), '1')).code).toBe('TANDEM_ERR_EVENTS_NOT_FOUND')
    expect(errorOf(await map(nats.url, outside, '1')).code).toBe('TANDEM_ERR_EVENTS_SUBJECT')
    expect(errorOf(await map(redisUrl(stringKey), nats.url, '1-0')).code).toBe('TANDEM_ERR_EVENTS_WRONG_TYPE')
  })

  it(
    'a classic RabbitMQ queue is TANDEM_ERR_EVENTS_WRONG_TYPE ' + 'for verify and bridge, and keeps its messages',
    async () => {
      const queue = uniqueName('ev_classic')
      const conn = await amqp.connect(services.rabbitmq)
      const ch = await conn.createConfirmChannel()
      await ch.assertQueue(queue, { durable: true })
      ch.sendToQueue(queue, Buffer.from('{"orderId":"o-0"}'), { messageId: 'o-0' })
      await ch.waitForConfirms()
      const classic = `${services.rabbitmq}/%2f?stream=${queue}`
      try {
        const read = errorOf(await verify(classic, red.url))
        expect(read.code).toBe('TANDEM_ERR_EVENTS_WRONG_TYPE')
        expect(read.message).toContain('is a RabbitMQ classic queue, not a stream')
        const copy = errorOf(
          await tandem(['events', 'bridge', '--from', red.url, '--to', classic, '--until-idle', '--json']),
        )
        expect(copy.code).toBe('TANDEM_ERR_EVENTS_WRONG_TYPE')
        expect((await ch.checkQueue(queue)).messageCount).toBe(1)
      } finally {
        await ch.deleteQueue(queue)
        await conn.close()
      }
    },
  )

  it(
    'a library publisher may still open a Redis stream ' + 'that does not exist yet: the first XADD creates it',
    async () => {
      const key = uniqueName('ev_lazy')
      const s = await openStream(redisUrl(key))
      try {
        await expect(s.end()).rejects.toMatchObject({ code: 'TANDEM_ERR_EVENTS_NOT_FOUND' })
        await s.publish({ id: 'o-1', data: '{"orderId":"o-1"}' })
        expect(await s.end()).toMatch(/^\d+-\d+$/)
      } finally {
        await s.close()
        await redis.del(key)
      }
    },
  )
})
