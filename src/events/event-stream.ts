// The one interface every broker adapter implements: publish with an id and headers, read a range in
// bounded batches, and report the current end. Positions are opaque strings compared by the adapter.

/** A message read from a stream. */
export interface StoredEvent {
  /** Broker position: NATS stream sequence, RabbitMQ stream offset, Redis entry id, Kafka `partition:offset`. */
  readonly position: string
  /** Broker publish time in ms since the epoch (NaN when the broker does not record one). */
  readonly time: number
  /** The id carried by the broker itself (Nats-Msg-Id, AMQP message-id, the Redis `id` field). */
  readonly messageId: string | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly data: Uint8Array
  /** The record key (Kafka); other brokers have none. */
  readonly key?: Uint8Array
}

export interface OutgoingEvent {
  readonly id: string
  readonly data: Uint8Array | string
  readonly headers?: Readonly<Record<string, string>>
  /** The record key where the broker has one (Kafka partitions by it; default: the id). */
  readonly key?: Uint8Array | string
}

export interface ReadOptions {
  /** Start after this position (exclusive). */
  readonly after?: string
  /**
   * Start at the first message whose broker time is >= this (ms). Adapters may start earlier (RabbitMQ
   * seeks by chunk), never later; callers filter by time themselves.
   */
  readonly fromTime?: number
  /** Stop after this position (inclusive); default: the end when the read starts. */
  readonly until?: string
  /** Largest batch yielded (default 1000). */
  readonly batch?: number
}

export interface EventStream {
  readonly url: string
  /** Publish one message; resolves once the broker acknowledged it, with its position when the broker says. */
  publish(event: OutgoingEvent): Promise<string | undefined>
  /** Read in order, in batches of at most `batch`, up to `until` (or the end when the read started). */
  read(options?: ReadOptions): AsyncIterable<StoredEvent[]>
  /** The message at a position, or undefined when there is none. */
  at(position: string): Promise<StoredEvent | undefined>
  /** The position of the last message now, or undefined when the stream is empty. */
  end(): Promise<string | undefined>
  /** Order of two positions of this stream (negative, 0, positive). */
  comparePositions(a: string, b: string): number
  /**
   * The resume position after `batch`, given the one before it. Absent on single-log brokers, where it is
   * the batch's last position; Kafka keeps one offset per partition (`0:41,1:-1,...`).
   */
  cursor?(previous: string | undefined, batch: readonly StoredEvent[]): string
  /** Check that a user-supplied position is well formed for this broker. */
  parsePosition(text: string): string
  close(): Promise<void>
}

/** Header the bridge and dualPublish set: the source's publish time in ms, so both sides agree on time. */
export const SOURCE_TIME_HEADER = 'x-tandem-source-time'

export const DEFAULT_BATCH = 1000

export function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data) : data
}
