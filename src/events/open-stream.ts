// Opens the adapter a stream URL names. `create` lets a publisher create a missing RabbitMQ stream queue
// or an empty Redis stream (Redis also creates one on first XADD; reading a missing one fails); JetStream
// streams must exist, their subjects are a design choice.
import type { EventStream } from './event-stream.js'
import { openAmqpStream } from './amqp-stream.js'
import { openKafkaStream } from './kafka-stream.js'
import { openNatsStream } from './nats-stream.js'
import { openRedisStream } from './redis-stream.js'
import { parseStreamUrl } from './stream-url.js'

export interface OpenOptions {
  /** Create a missing RabbitMQ stream queue or Redis stream (publishers). */
  readonly create?: boolean
  /**
   * The caller reads the stream, so a missing one fails now (a Redis stream otherwise fails at its first
   * read, since a publisher's first XADD creates it; JetStream streams and RabbitMQ queues always must exist).
   */
  readonly mustExist?: boolean
}

export async function openStream(url: string, options: OpenOptions = {}): Promise<EventStream> {
  const target = parseStreamUrl(url)
  switch (target.kind) {
    case 'nats':
      return openNatsStream(target)
    case 'amqp':
      return openAmqpStream(target, options.create ?? false)
    case 'redis':
      return openRedisStream(target, options)
    case 'kafka':
      return openKafkaStream(target, options)
  }
}
