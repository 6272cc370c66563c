// Opens the adapter a stream URL names. `create` lets a publisher create a missing RabbitMQ stream queue
// (Redis creates streams on first XADD; JetStream streams must exist, their subjects are a design choice).
import type { EventStream } from './event-stream.js'
import { openAmqpStream } from './amqp-stream.js'
import { openNatsStream } from './nats-stream.js'
import { openRedisStream } from './redis-stream.js'
import { parseStreamUrl } from './stream-url.js'

export async function openStream(url: string, options: { create?: boolean } = {}): Promise<EventStream> {
  const target = parseStreamUrl(url)
  switch (target.kind) {
    case 'nats':
      return openNatsStream(target)
    case 'amqp':
      return openAmqpStream(target, options.create ?? false)
    case 'redis':
      return openRedisStream(target)
  }
}
