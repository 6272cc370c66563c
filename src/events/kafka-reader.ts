// Reads offset ranges of a Kafka topic's partitions with one KafkaJS consumer per stream: KafkaJS only
// fetches through a consumer group, so the group (a throwaway name, never committed) is joined once and
// every later read seeks, resumes the partitions it needs and pauses them again when their range is done.
import { randomUUID } from 'node:crypto'
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs'
import type { StoredEvent } from './event-stream.js'
import { messagePosition } from './kafka-positions.js'

/** Offsets to read in one partition, both inclusive. */
export interface OffsetRange {
  readonly start: bigint
  readonly until: bigint
}

interface ActiveRead {
  readonly ranges: Map<number, { next: bigint; until: bigint }>
  queue: StoredEvent[]
  wake: (() => void) | undefined
  error: unknown
}

/** Header carrying the message id Tandem published with (the key is the id otherwise). */
export const KAFKA_ID_HEADER = 'x-tandem-id'

export class KafkaReader {
  private consumer: Consumer | undefined
  private joined: Promise<void> | undefined
  private active: ActiveRead | undefined
  private lock: Promise<void> = Promise.resolve()
  /** Connect, subscribe and run, settled: a close waits for it, so no consumer starts after the close. */
  private started: Promise<void> | undefined
  private closed = false

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  /** Messages of every range, merged across partitions in arrival order, in batches of at most `batch`. */
  async *read(ranges: ReadonlyMap<number, OffsetRange>, batch: number): AsyncGenerator<StoredEvent[]> {
    const wanted = [...ranges].filter(([, r]) => r.start <= r.until)
    if (wanted.length === 0) return
    let release!: () => void
    const previous = this.lock
    this.lock = new Promise((resolve) => (release = resolve))
    await previous
    try {
      const consumer = await this.join()
      const active: ActiveRead = {
        ranges: new Map(wanted.map(([p, r]) => [p, { next: r.start, until: r.until }])),
        queue: [],
        wake: undefined,
        error: undefined,
      }
      this.active = active
      for (const [p, r] of wanted) consumer.seek({ topic: this.topic, partition: p, offset: String(r.start) })
      consumer.resume([{ topic: this.topic, partitions: wanted.map(([p]) => p) }])
      for (;;) {
        if (active.error !== undefined) throw active.error
        if (active.queue.length > 0) {
          const out = active.queue.splice(0, batch)
          yield out
          continue
        }
        if (active.ranges.size === 0) return
        await new Promise<void>((resolve) => (active.wake = resolve))
        active.wake = undefined
      }
    } finally {
      const consumer = this.consumer
      if (consumer !== undefined && this.active !== undefined) consumer.pause([{ topic: this.topic }])
      this.active = undefined
      release()
    }
  }

  /** Join the group now, in the background (a reader's first read then does not wait for it). */
  prepare(): void {
    this.join().catch(() => {})
  }

  async close(): Promise<void> {
    this.closed = true
    await this.started?.catch(() => {})
    await this.consumer?.disconnect().catch(() => {})
  }

  private join(): Promise<Consumer> {
    const consumer =
      this.consumer ??
      this.kafka.consumer({
        groupId: `tandem-read-${randomUUID()}`,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 100,
        retry: { retries: 3 },
      })
    if (this.joined === undefined) {
      this.consumer = consumer
      this.joined = new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.GROUP_JOIN, () => resolve())
        consumer.on(consumer.events.CRASH, (e) => {
          reject(e.payload.error)
          if (this.active !== undefined) {
            this.active.error = e.payload.error
            this.active.wake?.()
          }
        })
        this.started = (async () => {
          await consumer.connect()
          if (this.closed) return
          await consumer.subscribe({ topic: this.topic, fromBeginning: true })
          if (this.closed) return
          await consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch, pause }) => {
              const range = this.active?.ranges.get(batch.partition)
              if (this.active === undefined || range === undefined) {
                pause()
                return
              }
              for (const m of batch.messages) {
                const offset = BigInt(m.offset)
                if (offset < range.next || offset > range.until) continue
                this.active.queue.push(toEvent(batch.partition, m))
                range.next = offset + 1n
              }
              if (
                range.next > range.until ||
                (BigInt(batch.highWatermark) - 1n <= range.until && range.next >= BigInt(batch.highWatermark))
              ) {
                this.active.ranges.delete(batch.partition)
                pause()
              }
              this.active.wake?.()
            },
          })
        })()
        this.started.catch(reject)
      })
    }
    return this.joined.then(() => consumer)
  }
}

export function toEvent(partition: number, m: KafkaMessage): StoredEvent {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue
    headers[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString()
  }
  const key = m.key ?? undefined
  return {
    position: messagePosition(partition, m.offset),
    time: Number(m.timestamp),
    messageId: headers[KAFKA_ID_HEADER] ?? key?.toString(),
    headers,
    data: m.value ?? new Uint8Array(0),
    ...(key !== undefined ? { key } : {}),
  }
}
