// RabbitMQ adapter: a stream queue (`x-queue-type: stream`) read over AMQP 0.9.1 with `x-stream-offset`,
// so reading never consumes; positions are stream offsets. The id travels in properties.messageId.
import amqp from 'amqplib'
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib'
import { TandemError } from '../errors.js'
import {
  DEFAULT_BATCH,
  toBytes,
  type EventStream,
  type OutgoingEvent,
  type ReadOptions,
  type StoredEvent,
} from './event-stream.js'
import { redact, type StreamUrl } from './stream-url.js'

type AmqpUrl = Extract<StreamUrl, { kind: 'amqp' }>
/** AMQP 0.9.1 timestamps are whole seconds; our own publishes also carry the millisecond time. */
export const PUBLISH_TIME_HEADER = 'x-tandem-publish-time'
/** How long a read waits for the next delivery before deciding the stream has nothing more. */
const IDLE_MS = 1500

export async function openAmqpStream(target: AmqpUrl, create: boolean): Promise<EventStream> {
  let conn: ChannelModel
  try {
    conn = await amqp.connect(target.connection)
  } catch (error) {
    throw new TandemError('TANDEM_ERR_EVENTS_CONNECT', { url: redact(target.url), detail: String(error) })
  }
  conn.on('error', () => {})
  const ch = await conn.createConfirmChannel()
  ch.on('error', () => {})
  try {
    if (create) await ch.assertQueue(target.stream, { durable: true, arguments: { 'x-queue-type': 'stream' } })
    else await ch.checkQueue(target.stream)
  } catch (error) {
    await conn.close().catch(() => {})
    // Asserting a stream over an existing classic or quorum queue fails on its x-queue-type.
    // ("current is none" for a classic queue declared without the argument.)
    const declared = /inequivalent arg 'x-queue-type'.*current is (?:the value '([^']+)'|none)/.exec(String(error))
    if (declared !== null) throw wrongType(target, declared[1] ?? 'classic', error)
    throw new TandemError('TANDEM_ERR_EVENTS_NOT_FOUND', { url: redact(target.url), stream: target.stream })
  }
  return new AmqpStream(target, conn, ch)
}

function wrongType(target: AmqpUrl, type: string, cause: unknown): TandemError {
  return new TandemError(
    'TANDEM_ERR_EVENTS_WRONG_TYPE',
    {
      url: redact(target.url),
      stream: target.stream,
      type: `a RabbitMQ ${type} queue`,
      hint: 'a queue declared with x-queue-type: stream',
    },
    { cause },
  )
}

class AmqpStream implements EventStream {
  readonly url: string
  constructor(
    private readonly target: AmqpUrl,
    private readonly conn: ChannelModel,
    private readonly pub: ConfirmChannel,
  ) {
    this.url = target.url
  }

  publish(event: OutgoingEvent): Promise<string | undefined> {
    const now = Date.now()
    return new Promise((resolve, reject) => {
      this.pub.sendToQueue(
        this.target.stream,
        Buffer.from(toBytes(event.data)),
        {
          messageId: event.id,
          timestamp: Math.floor(now / 1000),
          persistent: true,
          headers: { ...event.headers, [PUBLISH_TIME_HEADER]: String(now) },
        },
        (error: unknown) => {
          if (error)
            reject(new TandemError('TANDEM_ERR_EVENTS_PUBLISH', { url: redact(this.url), detail: String(error) }))
          else resolve(undefined)
        },
      )
    })
  }

  async *read(options: ReadOptions = {}): AsyncIterable<StoredEvent[]> {
    const until = options.until !== undefined ? Number(options.until) : await this.endOffset()
    if (until === undefined) return
    let offset: unknown = 'first'
    if (options.after !== undefined) {
      if (Number(options.after) >= until) return
      offset = Number(options.after) + 1
    } else if (options.fromTime !== undefined && Number.isFinite(options.fromTime)) {
      offset = { '!': 'timestamp', value: Math.max(0, Math.floor(options.fromTime / 1000) - 1) }
    }
    const batch = options.batch ?? DEFAULT_BATCH
    const ch = await this.conn.createChannel()
    ch.on('error', () => {})
    // Prefetch bounds what is in memory: deliveries are acknowledged only once their batch is yielded.
    await ch.prefetch(batch)
    const feed = new DeliveryFeed()
    const { consumerTag } = await this.consume(ch, feed, offset)
    try {
      for (;;) {
        const got = await feed.take(batch, IDLE_MS)
        if (got.length === 0) return
        const out: StoredEvent[] = []
        let done = false
        for (const m of got) {
          const ev = toEvent(m)
          if (Number(ev.position) > until) {
            done = true
            break
          }
          out.push(ev)
          if (Number(ev.position) >= until) done = true
        }
        if (out.length > 0) yield out
        ch.ack(got[got.length - 1]!, true)
        if (done) return
      }
    } finally {
      await ch.cancel(consumerTag).catch(() => {})
      await ch.close().catch(() => {})
    }
  }

  async at(position: string): Promise<StoredEvent | undefined> {
    const p = Number(position)
    const after = p === 0 ? undefined : String(p - 1)
    for await (const batch of this.read({ ...(after !== undefined ? { after } : {}), until: position, batch: 1 })) {
      const hit = batch.find((e) => e.position === String(p))
      if (hit !== undefined) return hit
    }
    return undefined
  }

  async end(): Promise<string | undefined> {
    const end = await this.endOffset()
    return end === undefined ? undefined : String(end)
  }

  /** AMQP does not report a stream's last offset: read the last chunk (`x-stream-offset: last`) until idle. */
  private async endOffset(): Promise<number | undefined> {
    const ch: Channel = await this.conn.createChannel()
    ch.on('error', () => {})
    await ch.prefetch(DEFAULT_BATCH)
    const feed = new DeliveryFeed()
    const { consumerTag } = await this.consume(ch, feed, 'last')
    let max: number | undefined
    try {
      for (;;) {
        const got = await feed.take(DEFAULT_BATCH, max === undefined ? IDLE_MS : 300)
        if (got.length === 0) return max
        for (const m of got) max = Math.max(max ?? -1, Number(m.properties.headers?.['x-stream-offset']))
        ch.ack(got[got.length - 1]!, true)
      }
    } finally {
      await ch.cancel(consumerTag).catch(() => {})
      await ch.close().catch(() => {})
    }
  }

  /** Consume from an offset; a queue that is not a stream refuses `x-stream-offset`, which is a coded error. */
  private async consume(ch: Channel, feed: DeliveryFeed, offset: unknown): Promise<{ consumerTag: string }> {
    try {
      return await ch.consume(this.target.stream, (m) => feed.push(m), {
        noAck: false,
        arguments: { 'x-stream-offset': offset },
      })
    } catch (error) {
      const type = /invalid arg 'x-stream-offset'.*of queue type (\w+)/.exec(String(error))?.[1]
      if (type !== undefined) throw wrongType(this.target, type.replace(/^rabbit_|_queue$/g, ''), error)
      throw error
    }
  }

  comparePositions(a: string, b: string): number {
    return Number(a) - Number(b)
  }

  parsePosition(text: string): string {
    if (!/^\d+$/.test(text))
      throw new TandemError('TANDEM_ERR_EVENTS_POSITION', {
        url: redact(this.url),
        position: text,
        detail: 'a RabbitMQ stream position is an offset (0, 1, 2, ...)',
      })
    return String(Number(text))
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => {})
  }
}

function toEvent(m: ConsumeMessage): StoredEvent {
  const headers: Record<string, string> = {}
  let time = m.properties.timestamp === undefined ? Number.NaN : Number(m.properties.timestamp) * 1000
  let position = ''
  for (const [k, v] of Object.entries(m.properties.headers ?? {})) {
    if (k === 'x-stream-offset') position = String(v)
    else if (k === PUBLISH_TIME_HEADER) time = Number(v)
    else headers[k] = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString() : String(v)
  }
  const id = m.properties.messageId as unknown
  return {
    position,
    time,
    messageId: id === undefined || id === null ? undefined : String(id),
    headers,
    data: m.content,
  }
}

/** Turns amqplib's delivery callback into batches a reader awaits, with an idle timeout. */
class DeliveryFeed {
  private queue: ConsumeMessage[] = []
  private wake: (() => void) | undefined

  push(m: ConsumeMessage | null): void {
    if (m !== null) this.queue.push(m)
    this.wake?.()
  }

  async take(max: number, idleMs: number): Promise<ConsumeMessage[]> {
    if (this.queue.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, idleMs)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.wake = undefined
    }
    return this.queue.splice(0, max)
  }
}
