// Redis Streams adapter: XADD/XRANGE; positions are entry ids (`ms-seq`, so the time is in the id).
// Fields: `id` (message id), `data` (payload), `header:NAME` (headers); foreign entries without `data`
// are read as the JSON object of their fields so a JSON-path --id still works.
import { Redis } from 'ioredis'
import { TandemError } from '../errors.js'
import { DEFAULT_BATCH, type EventStream, type OutgoingEvent, type ReadOptions, type StoredEvent } from './event-stream.js'
import { redact, type StreamUrl } from './stream-url.js'

type RedisUrl = Extract<StreamUrl, { kind: 'redis' }>
const HEADER_PREFIX = 'header:'

export async function openRedisStream(target: RedisUrl): Promise<EventStream> {
  const redis = new Redis(target.connection, { lazyConnect: true, maxRetriesPerRequest: 2, retryStrategy: () => null })
  try {
    await redis.connect()
  } catch (error) {
    redis.disconnect()
    throw new TandemError('TANDEM_ERR_EVENTS_CONNECT', { url: redact(target.url), detail: String(error) })
  }
  return new RedisStream(target, redis)
}

class RedisStream implements EventStream {
  readonly url: string
  constructor(
    private readonly target: RedisUrl,
    private readonly redis: Redis,
  ) {
    this.url = target.url
  }

  async publish(event: OutgoingEvent): Promise<string> {
    const fields: Array<string | Buffer> = ['id', event.id, 'data', typeof event.data === 'string' ? event.data : Buffer.from(event.data)]
    for (const [k, v] of Object.entries(event.headers ?? {})) fields.push(`${HEADER_PREFIX}${k}`, v)
    try {
      const id = await this.redis.xadd(this.target.key, '*', ...fields)
      return String(id)
    } catch (error) {
      throw new TandemError('TANDEM_ERR_EVENTS_PUBLISH', { url: redact(this.url), detail: String(error) }, { cause: error })
    }
  }

  async *read(options: ReadOptions = {}): AsyncIterable<StoredEvent[]> {
    const until = options.until ?? (await this.end())
    if (until === undefined) return
    const batch = options.batch ?? DEFAULT_BATCH
    let start: string
    if (options.after !== undefined) start = `(${options.after}`
    else if (options.fromTime !== undefined && Number.isFinite(options.fromTime)) start = `${Math.max(0, Math.floor(options.fromTime))}-0`
    else start = '-'
    for (;;) {
      const rows = (await this.redis.xrangeBuffer(this.target.key, start, until, 'COUNT', batch)) as Array<[Buffer, Buffer[]]>
      if (rows.length === 0) return
      yield rows.map(([id, fields]) => toEvent(id.toString(), fields))
      if (rows.length < batch) return
      start = `(${rows[rows.length - 1]![0].toString()}`
    }
  }

  async at(position: string): Promise<StoredEvent | undefined> {
    const rows = (await this.redis.xrangeBuffer(this.target.key, position, position)) as Array<[Buffer, Buffer[]]>
    return rows[0] === undefined ? undefined : toEvent(rows[0][0].toString(), rows[0][1])
  }

  async end(): Promise<string | undefined> {
    const rows = await this.redis.xrevrange(this.target.key, '+', '-', 'COUNT', 1)
    return rows[0]?.[0]
  }

  comparePositions(a: string, b: string): number {
    const [am, as] = a.split('-').map(BigInt) as [bigint, bigint]
    const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint]
    return am === bm ? Number(as - bs) : am < bm ? -1 : 1
  }

  parsePosition(text: string): string {
    if (!/^\d+-\d+$/.test(text)) throw new TandemError('TANDEM_ERR_EVENTS_POSITION', { url: redact(this.url), position: text, detail: 'a Redis position is an entry id such as 1700000000000-0' })
    return text
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect())
  }
}

function toEvent(position: string, fields: Buffer[]): StoredEvent {
  const headers: Record<string, string> = {}
  let messageId: string | undefined
  let data: Uint8Array | undefined
  const plain: Record<string, string> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const k = fields[i]!.toString()
    const v = fields[i + 1]!
    if (k === 'id') messageId = v.toString()
    else if (k === 'data') data = v
    else if (k.startsWith(HEADER_PREFIX)) headers[k.slice(HEADER_PREFIX.length)] = v.toString()
    else plain[k] = v.toString()
  }
  if (data === undefined) data = Buffer.from(JSON.stringify(messageId === undefined ? plain : { id: messageId, ...plain }))
  return { position, time: Number(position.slice(0, position.indexOf('-'))), messageId, headers, data }
}
