// The Kafka rows of bench/events.bench.ts, on two librdkafka mock clusters (kcat, loopback): `events verify`
// end to end vs a raw read of both topics with the same client (KafkaJS), and the bridge's messages/s.
import { Kafka, logLevel } from 'kafkajs'
import { bridge } from '../src/events/bridge.js'
import { openStream } from '../src/events/open-stream.js'
import { verifyStreams } from '../src/events/verify.js'
import { startMockCluster } from '../test/events/kafka-cluster.js'

const KAFKA_N = 50_000

/** Every message of a topic through one KafkaJS consumer group (joined, then read to the high watermarks). */
async function rawRead(bootstrap: string, topic: string): Promise<number> {
  const kafka = new Kafka({ clientId: 'bench', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const highs = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]))
  await admin.disconnect()
  const consumer = kafka.consumer({ groupId: `bench-raw-${process.pid}-${topic}`, maxWaitTimeInMs: 100 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let read = 0
  const open = new Set([...highs].filter(([, h]) => h > 0n).map(([p]) => p))
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        read += batch.messages.length
        if (BigInt(batch.lastOffset()) + 1n >= highs.get(batch.partition)!) open.delete(batch.partition)
        if (open.size === 0) resolve()
      },
    })
  })
  await consumer.disconnect()
  return read
}

export async function kafkaRows(): Promise<Array<Record<string, string | number>>> {
  const [a, b] = await Promise.all([startMockCluster(), startMockCluster()])
  try {
    const oldUrl = a.topicUrl('bench')
    const newUrl = b.topicUrl('bench')
    const old = await openStream(oldUrl, { create: true })
    for (let i = 0; i < KAFKA_N; i += 5_000) {
      await Promise.all(
        Array.from({ length: 5_000 }, (_, j) =>
          old.publish({ id: `o-${i + j}`, data: JSON.stringify({ orderId: `o-${i + j}` }) }),
        ),
      )
    }
    await old.close()
    let t0 = performance.now()
    const copied = await bridge({ from: oldUrl, to: newUrl, untilIdle: true })
    const bridgeMs = performance.now() - t0
    t0 = performance.now()
    const counts = await Promise.all([
      rawRead(a.bootstrap, oldUrl.slice(oldUrl.lastIndexOf('/') + 1)),
      rawRead(b.bootstrap, newUrl.slice(newUrl.lastIndexOf('/') + 1)),
    ])
    const readMs = performance.now() - t0
    t0 = performance.now()
    const report = await verifyStreams({ from: oldUrl, to: newUrl, id: '/orderId' })
    const verifyMs = performance.now() - t0
    const readRate = Math.round((counts[0] + counts[1]) / (readMs / 1000))
    const verifyRate = Math.round((report.counts.old + report.counts.new) / (verifyMs / 1000))
    return [
      {
        case: `Kafka (librdkafka mock, 4 partitions), ${KAFKA_N.toLocaleString('en')} messages, old vs bridged copy`,
        tandem: `${verifyRate.toLocaleString('en')} msg/s read+verified (ok=${report.ok}, ${report.passes} pass(es))`,
        peer: `raw KafkaJS read of both topics: ${readRate.toLocaleString('en')} msg/s`,
        ratio: `${(verifyRate / readRate).toFixed(2)}x of raw read`,
      },
      {
        case: `Kafka -> Kafka bridge, ${copied.copied.toLocaleString('en')} messages`,
        tandem:
          `${Math.round(copied.copied / (bridgeMs / 1000)).toLocaleString('en')} msg/s copied (batches of 500, ` +
          `acks=all)`,
        peer: '-',
        ratio: '-',
      },
    ]
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}
