// Reading and committing a consumer group's offsets on one Kafka cluster (admin requests through KafkaJS).
import { TandemError } from '../errors.js'
import { kafkaClient } from './kafka-stream.js'
import { redact, type KafkaUrl } from './stream-url.js'

/** Partition -> the group's committed offset (the next message to consume; -1 when none). */
export async function fetchGroupOffsets(target: KafkaUrl, group: string): Promise<Map<number, bigint>> {
  const admin = kafkaClient(target).admin()
  try {
    await admin.connect()
    const [topic] = await admin.fetchOffsets({ groupId: group, topics: [target.topic] })
    return new Map((topic?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]))
  } catch (error) {
    throw new TandemError(
      'TANDEM_ERR_EVENTS_CONNECT',
      { url: redact(target.url), detail: String(error) },
      { cause: error },
    )
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

/**
 * Commits `offsets` for `group`. The admin way (OffsetCommit after DescribeGroups checks the group has no
 * member) comes first; a peer without DescribeGroups (librdkafka's mock cluster) gets the commit from a
 * member of the group that joins, commits and leaves without consuming.
 */
export async function commitGroupOffsets(
  target: KafkaUrl,
  group: string,
  offsets: ReadonlyMap<number, bigint>,
): Promise<void> {
  const kafka = kafkaClient(target)
  const partitions = [...offsets].map(([partition, offset]) => ({ partition, offset: String(offset) }))
  const admin = kafka.admin()
  try {
    await admin.connect()
    await admin.setOffsets({ groupId: group, topic: target.topic, partitions })
    return
  } catch (error) {
    if (!unsupportedApi(error)) {
      const detail = /no running instances/i.test(String(error))
        ? `it has active members (${String(error)})`
        : `the commit failed: ${String(error)}`
      throw new TandemError('TANDEM_ERR_EVENTS_GROUP', { group, url: redact(target.url), detail }, { cause: error })
    }
  } finally {
    await admin.disconnect().catch(() => {})
  }
  const consumer = kafka.consumer({ groupId: group, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 })
  try {
    const joined = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, () => resolve())
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error))
    })
    await consumer.connect()
    await consumer.subscribe({ topic: target.topic, fromBeginning: true })
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async ({ pause }) => void pause() })
    await joined
    await consumer.commitOffsets(partitions.map((p) => ({ topic: target.topic, ...p })))
  } catch (error) {
    throw new TandemError(
      'TANDEM_ERR_EVENTS_GROUP',
      { group, url: redact(target.url), detail: `the commit failed: ${String(error)}` },
      { cause: error },
    )
  } finally {
    await consumer.disconnect().catch(() => {})
  }
}

/** Whether KafkaJS failed because the peer lacks an API (its error, or one it wraps). */
function unsupportedApi(error: unknown): boolean {
  for (
    let e = error as { name?: string; cause?: unknown } | undefined;
    e !== undefined && e !== null;
    e = e.cause as typeof e
  ) {
    if (e.name === 'KafkaJSServerDoesNotSupportApiKey') return true
  }
  return false
}
