// Kafka adapter (KafkaJS; also Redpanda and any Kafka-protocol broker): every partition of one topic.
// Positions are `partition:offset` per message and one offset per partition for the stream (kafka-positions).
// Tandem never creates topics (CreateTopics is not needed): a publisher relies on the broker's auto-creation.
import { Kafka, logLevel, type Admin, type Message, type Producer, type SASLOptions } from 'kafkajs'
import { TandemError } from '../errors.js'
import {
  DEFAULT_BATCH,
  SOURCE_TIME_HEADER,
  toBytes,
  type EventStream,
  type OutgoingEvent,
  type ReadOptions,
  type StoredEvent,
} from './event-stream.js'
import { KAFKA_ID_HEADER, KafkaReader, type OffsetRange } from './kafka-reader.js'
import {
  advanceVector,
  compareVectors,
  formatVector,
  parseVector,
  splitPosition,
  type OffsetVector,
} from './kafka-positions.js'
import { redact, type KafkaUrl } from './stream-url.js'

const POSITION_HINT =
  'a Kafka position is partition:offset (2:41), or one per partition for a stream position (0:41,1:-1)'

/** The KafkaJS client for a kafka:// URL: short retries so an unreachable broker fails in seconds. */
export function kafkaClient(target: KafkaUrl): Kafka {
  const sasl =
    target.sasl === undefined
      ? undefined
      : ({
          mechanism: target.sasl.mechanism,
          username: target.sasl.username,
          password: target.sasl.password,
        } as SASLOptions)
  return new Kafka({
    clientId: 'tandem',
    brokers: [...target.brokers],
    ssl: target.tls,
    ...(sasl !== undefined ? { sasl } : {}),
    connectionTimeout: 3_000,
    retry: { retries: 2, initialRetryTime: 200 },
    logLevel: logLevel.NOTHING,
  })
}

export async function openKafkaStream(
  target: KafkaUrl,
  options: { create?: boolean; mustExist?: boolean },
): Promise<EventStream> {
  const kafka = kafkaClient(target)
  const admin = kafka.admin()
  try {
    await admin.connect()
  } catch (error) {
    throw new TandemError(
      'TANDEM_ERR_EVENTS_CONNECT',
      { url: redact(target.url), detail: String(error) },
      { cause: error },
    )
  }
  const stream = new KafkaStream(target, kafka, admin)
  try {
    // Listing all topics never auto-creates one (a metadata request naming the topic may, on brokers
    // with auto-creation on), so a reader of a missing topic fails here rather than reading an empty one.
    if (options.create !== true || options.mustExist === true) await stream.mustExist()
    // A reader's group join takes seconds (the broker's initial rebalance delay): start it now, so the
    // joins of verify's two sides overlap instead of adding up.
    if (options.mustExist === true) stream.prepare()
    return stream
  } catch (error) {
    await stream.close()
    throw error
  }
}

class KafkaStream implements EventStream {
  readonly url: string
  private producer: Promise<Producer> | undefined
  private pending: Array<{ message: Message; resolve: () => void; reject: (e: unknown) => void }> = []
  private readonly reader: KafkaReader

  constructor(
    private readonly target: KafkaUrl,
    private readonly kafka: Kafka,
    private readonly admin: Admin,
  ) {
    this.url = target.url
    this.reader = new KafkaReader(kafka, target.topic)
  }

  prepare(): void {
    this.reader.prepare()
  }

  async mustExist(): Promise<void> {
    const topics = await this.admin.listTopics().catch((error: unknown) => {
      throw this.failure(error)
    })
    if (!topics.includes(this.target.topic))
      throw new TandemError('TANDEM_ERR_EVENTS_NOT_FOUND', { url: redact(this.url), stream: this.target.topic })
  }

  private failure(error: unknown): TandemError {
    if (error instanceof TandemError) return error
    return new TandemError(
      'TANDEM_ERR_EVENTS_CONNECT',
      { url: redact(this.url), detail: String(error) },
      { cause: error },
    )
  }

  /** Publishes issued together go out in one produce request (order kept per partition), keyed by the id. */
  publish(event: OutgoingEvent): Promise<undefined> {
    const headers: Record<string, string> = { ...(event.headers ?? {}), [KAFKA_ID_HEADER]: event.id }
    const carried = Number(headers[SOURCE_TIME_HEADER])
    const message: Message = {
      key: event.key === undefined ? event.id : Buffer.from(toBytes(event.key)),
      value: Buffer.from(toBytes(event.data)),
      headers,
      // The bridge and dualPublish carry the source time: it becomes the record timestamp, kept across.
      timestamp: String(Number.isFinite(carried) ? carried : Date.now()),
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ message, resolve: () => resolve(undefined), reject })
      if (this.pending.length === 1) setImmediate(() => void this.flush())
    })
  }

  private async flush(): Promise<void> {
    const sent = this.pending
    this.pending = []
    try {
      this.producer ??= (async () => {
        // No idempotent producer (not every Kafka-protocol peer has InitProducerId); acks from all replicas.
        const p = this.kafka.producer({ allowAutoTopicCreation: true, idempotent: false, retry: { retries: 2 } })
        await p.connect()
        return p
      })()
      const producer = await this.producer
      await producer.send({ topic: this.target.topic, acks: -1, messages: sent.map((s) => s.message) })
      for (const s of sent) s.resolve()
    } catch (error) {
      // A broker without topic auto-creation refuses a missing topic: that is the topic's absence, not a publish
      // failure.
      const coded = hasType(error, 'UNKNOWN_TOPIC_OR_PARTITION')
        ? new TandemError(
            'TANDEM_ERR_EVENTS_NOT_FOUND',
            { url: redact(this.url), stream: this.target.topic },
            { cause: error },
          )
        : new TandemError(
            'TANDEM_ERR_EVENTS_PUBLISH',
            { url: redact(this.url), detail: String(error) },
            { cause: error },
          )
      for (const s of sent) s.reject(coded)
    }
  }

  /** Low and high watermarks of every partition. */
  private async watermarks(): Promise<Map<number, { low: bigint; high: bigint }>> {
    const offsets = await this.admin.fetchTopicOffsets(this.target.topic).catch((error: unknown) => {
      throw this.failure(error)
    })
    return new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]))
  }

  async *read(options: ReadOptions = {}): AsyncIterable<StoredEvent[]> {
    const marks = await this.watermarks()
    const after = options.after === undefined ? undefined : this.vector(options.after)
    const until = options.until === undefined ? undefined : this.vector(options.until)
    // fromTime is not used: ListOffsets by time is not served by every peer, and starting earlier is allowed.
    const ranges = new Map<number, OffsetRange>()
    for (const [p, m] of marks) {
      const start = after?.get(p) === undefined ? m.low : after.get(p)! + 1n
      const last = until === undefined ? m.high - 1n : (until.get(p) ?? -1n)
      ranges.set(p, { start: start < m.low ? m.low : start, until: last < m.high - 1n ? last : m.high - 1n })
    }
    try {
      yield* this.reader.read(ranges, options.batch ?? DEFAULT_BATCH)
    } catch (error) {
      throw this.failure(error)
    }
  }

  async at(position: string): Promise<StoredEvent | undefined> {
    if (position.includes(','))
      throw new TandemError('TANDEM_ERR_EVENTS_POSITION', {
        url: redact(this.url),
        position,
        detail: 'a message position is one partition:offset pair',
      })
    const [p, o] = splitPosition(this.parsePosition(position))
    const mark = (await this.watermarks()).get(p)
    if (mark === undefined || o < mark.low || o >= mark.high) return undefined
    for await (const batch of this.reader.read(new Map([[p, { start: o, until: o }]]), 1))
      return batch.find((e) => e.position === position)
    return undefined
  }

  /** The last offset of every partition (-1 when empty); undefined when the whole topic is empty. */
  async end(): Promise<string | undefined> {
    const marks = await this.watermarks()
    if ([...marks.values()].every((m) => m.high <= m.low)) return undefined
    return formatVector(new Map([...marks].map(([p, m]) => [p, m.high - 1n])))
  }

  comparePositions(a: string, b: string): number {
    return compareVectors(this.vector(a), this.vector(b))
  }

  cursor(previous: string | undefined, batch: readonly StoredEvent[]): string {
    const start: OffsetVector = previous === undefined ? new Map() : this.vector(previous)
    return formatVector(advanceVector(start, batch))
  }

  parsePosition(text: string): string {
    if (parseVector(text) === undefined)
      throw new TandemError('TANDEM_ERR_EVENTS_POSITION', {
        url: redact(this.url),
        position: text,
        detail: POSITION_HINT,
      })
    return text
  }

  private vector(text: string): OffsetVector {
    const v = parseVector(text)
    if (v === undefined)
      throw new TandemError('TANDEM_ERR_EVENTS_POSITION', {
        url: redact(this.url),
        position: text,
        detail: POSITION_HINT,
      })
    return v
  }

  async close(): Promise<void> {
    await this.reader.close()
    const producer = this.producer
    this.producer = undefined
    await Promise.all([producer?.then((p) => p.disconnect()).catch(() => {}), this.admin.disconnect().catch(() => {})])
  }
}

/** Whether a KafkaJS error, or one it wraps, has this protocol error type. */
function hasType(error: unknown, type: string): boolean {
  for (
    let e = error as { type?: string; cause?: unknown } | undefined;
    e !== undefined && e !== null;
    e = e.cause as typeof e
  ) {
    if (e.type === type) return true
  }
  return false
}
