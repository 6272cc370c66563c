// Redis Streams adapter: XADD/XRANGE; positions are entry ids (`ms-seq`, so the time is in the id).
// Fields: `id` (message id), `data` (payload), `header:NAME` (headers); foreign entries without `data`
// are read as the JSON object of their fields so a JSON-path --id still works.
import { Redis } from 'ioredis'
import { TandemError } from '../errors.js'
import {
  DEFAULT_BATCH,
  type EventStream,
  type OutgoingEvent,
  type ReadOptions,
  type StoredEvent,
} from './event-stream.js'
import { redact, type StreamUrl } from './stream-url.js'

type RedisUrl = Extract<StreamUrl, { kind: 'redis' }>
const HEADER_PREFIX = 'header:'
const REDIS_HINT = 'a stream key; `TYPE KEY` in redis-cli shows what a key holds'

export async function openRedisStream(
  target: RedisUrl,
  options: { create?: boolean; mustExist?: boolean },
): Promise<EventStream> {
  // The database is selected here, not by ioredis from the URL: ioredis only logs a failed SELECT and
  // goes on in database 0, which would read (and write) another database's stream of the same name.
  const conn = new URL(target.connection)
  const db = Number(conn.pathname.replace(/^\//, '') || '0')
  conn.pathname = ''
  const redis = new Redis(conn.toString(), { lazyConnect: true, maxRetriesPerRequest: 2, retryStrategy: () => null })
  // Failures reach the caller through the rejected command; without a listener ioredis prints them too.
  redis.on('error', () => {})
  try {
    await redis.connect()
  } catch (error) {
    redis.disconnect()
    throw new TandemError('TANDEM_ERR_EVENTS_CONNECT', { url: redact(target.url), detail: String(error) })
  }
  try {
    if (db !== 0) {
      await redis.select(db).catch((error: unknown) => {
        throw new TandemError(
          'TANDEM_ERR_EVENTS_REDIS_DB',
          { db, url: redact(target.url), detail: String(error) },
          { cause: error },
        )
      })
    }
    const stream = new RedisStream(target, redis)
    // A key of another type fails now, for readers and writers alike. A missing key is created by the
    // first XADD, so it fails now only for a reader (else at the first end, read or at), unless
    // `create` makes it an empty stream now.
    const type = await stream.stream(options.mustExist !== true)
    if (options.create === true && type === 'none') await stream.create()
    return stream
  } catch (error) {
    redis.disconnect()
    throw error
  }
}

class RedisStream implements EventStream {
  readonly url: string
  constructor(
    private readonly target: RedisUrl,
    private readonly redis: Redis,
  ) {
    this.url = target.url
  }

  /** Check that the key is a stream (or, with `missingOk`, absent); a coded error otherwise. */
  async stream(missingOk = false): Promise<'stream' | 'none'> {
    const type = await this.redis.type(this.target.key).catch((error: unknown) => {
      throw this.failure(error)
    })
    if (type === 'stream' || (type === 'none' && missingOk)) return type
    if (type === 'none')
      throw new TandemError('TANDEM_ERR_EVENTS_NOT_FOUND', { url: redact(this.url), stream: this.target.key })
    throw new TandemError('TANDEM_ERR_EVENTS_WRONG_TYPE', {
      url: redact(this.url),
      stream: this.target.key,
      type: `a Redis ${type}`,
      hint: REDIS_HINT,
    })
  }

  /** Create the stream key, empty, when it is missing (a consumer group made and dropped at once). */
  async create(): Promise<void> {
    const group = 'tandem-create'
    try {
      await this.redis.xgroup('CREATE', this.target.key, group, '$', 'MKSTREAM')
      await this.redis.xgroup('DESTROY', this.target.key, group)
    } catch (error) {
      throw this.failure(error)
    }
  }

  /** A Redis reply error as a coded error: a key that changed type since the open, else the broker's failure. */
  private failure(error: unknown): TandemError {
    if (error instanceof TandemError) return error
    if (/^WRONGTYPE/.test((error as Error).message ?? '')) {
      return new TandemError(
        'TANDEM_ERR_EVENTS_WRONG_TYPE',
        { url: redact(this.url), stream: this.target.key, type: 'a Redis value of another type', hint: REDIS_HINT },
        { cause: error },
      )
    }
    return new TandemError(
      'TANDEM_ERR_EVENTS_CONNECT',
      { url: redact(this.url), detail: String(error) },
      { cause: error },
    )
  }

  async publish(event: OutgoingEvent): Promise<string> {
    const fields: Array<string | Buffer> = [
      'id',
      event.id,
      'data',
      typeof event.data === 'string' ? event.data : Buffer.from(event.data),
    ]
    for (const [k, v] of Object.entries(event.headers ?? {})) fields.push(`${HEADER_PREFIX}${k}`, v)
    try {
      const id = await this.redis.xadd(this.target.key, '*', ...fields)
      return String(id)
    } catch (error) {
      if (/^WRONGTYPE/.test((error as Error).message ?? '')) throw this.failure(error)
      throw new TandemError(
        'TANDEM_ERR_EVENTS_PUBLISH',
        { url: redact(this.url), detail: String(error) },
        { cause: error },
      )
    }
  }

  async *read(options: ReadOptions = {}): AsyncIterable<StoredEvent[]> {
    if (options.until !== undefined) await this.stream()
    const until = options.until ?? (await this.end())
    if (until === undefined) return
    const batch = options.batch ?? DEFAULT_BATCH
    let start: string
    if (options.after !== undefined) start = `(${options.after}`
    else if (options.fromTime !== undefined && Number.isFinite(options.fromTime))
      start = `${Math.max(0, Math.floor(options.fromTime))}-0`
    else start = '-'
    for (;;) {
      const rows = (await this.redis
        .xrangeBuffer(this.target.key, start, until, 'COUNT', batch)
        .catch((error: unknown) => {
          throw this.failure(error)
        })) as Array<[Buffer, Buffer[]]>
      if (rows.length === 0) return
      yield rows.map(([id, fields]) => toEvent(id.toString(), fields))
      if (rows.length < batch) return
      start = `(${rows[rows.length - 1]![0].toString()}`
    }
  }

  async at(position: string): Promise<StoredEvent | undefined> {
    await this.stream()
    const rows = (await this.redis.xrangeBuffer(this.target.key, position, position).catch((error: unknown) => {
      throw this.failure(error)
    })) as Array<[Buffer, Buffer[]]>
    return rows[0] === undefined ? undefined : toEvent(rows[0][0].toString(), rows[0][1])
  }

  /** The last entry id; a missing key is an error here, as a missing JetStream stream or RabbitMQ queue is. */
  async end(): Promise<string | undefined> {
    await this.stream()
    const rows = await this.redis.xrevrange(this.target.key, '+', '-', 'COUNT', 1).catch((error: unknown) => {
      throw this.failure(error)
    })
    return rows[0]?.[0]
  }

  comparePositions(a: string, b: string): number {
    const [am, as] = a.split('-').map(BigInt) as [bigint, bigint]
    const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint]
    return am === bm ? Number(as - bs) : am < bm ? -1 : 1
  }

  parsePosition(text: string): string {
    if (!/^\d+-\d+$/.test(text))
      throw new TandemError('TANDEM_ERR_EVENTS_POSITION', {
        url: redact(this.url),
        position: text,
        detail: 'a Redis position is an entry id such as 1700000000000-0',
      })
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
  if (data === undefined)
    data = Buffer.from(JSON.stringify(messageId === undefined ? plain : { id: messageId, ...plain }))
  return { position, time: Number(position.slice(0, position.indexOf('-'))), messageId, headers, data }
}
