// `tandem events map-position --group G [--commit]` for Kafka: from the source group's committed offsets,
// the target offset of every partition such that nothing the group had not consumed is skipped
// (at-least-once, decided by message id and time, never by offset arithmetic); with `commit`, they are
// committed for the group on the target cluster. docs/events.md explains the rule and its bounds.
import { TandemError } from '../errors.js'
import type { EventStream } from './event-stream.js'
import { agreedTime, idOf, type Extractor } from './extractors.js'
import { formatVector, splitPosition } from './kafka-positions.js'
import { commitGroupOffsets, fetchGroupOffsets } from './kafka-group-offsets.js'
import { withMappingStreams } from './map-position.js'
import { parseStreamUrl, redact, type KafkaUrl } from './stream-url.js'

export interface MapGroupOptions {
  readonly from: string
  readonly to: string
  /** Consumer group (default: `?group=` of the old URL). */
  readonly group?: string
  readonly id?: string
  readonly time?: string
  readonly toleranceMs?: number
  /** Commit the target offsets for the group on the new cluster. */
  readonly commit?: boolean
}

export interface SourcePartition {
  readonly partition: number
  /** The group's committed offset (the next to consume); null when it committed none there. */
  readonly committed: string | null
  readonly end: string
  readonly unconsumed: number
}

export interface TargetPartition {
  readonly partition: number
  /** The offset to commit: the first message to process (the partition's end when there is none). */
  readonly offset: string
  readonly end: string
  /** Messages at or after `offset` that the group had consumed already (at-least-once repeats). */
  readonly redeliveries: number
}

export interface MappedGroup {
  readonly from: string
  readonly to: string
  readonly group: string
  readonly committed: boolean
  readonly source: SourcePartition[]
  readonly target: TargetPartition[]
  readonly unconsumed: number
  readonly redeliveries: number
  /** Consumed old ids held to recognise copies near the group's position. */
  readonly windowIds: number
}

export async function mapGroupPosition(options: MapGroupOptions): Promise<MappedGroup> {
  const [src, dst] = [kafkaUrl(options.from), kafkaUrl(options.to)]
  const group = options.group ?? src.group
  if (group === undefined)
    throw new TandemError('TANDEM_ERR_USAGE', {
      detail: 'map-position on Kafka needs --group G (or ?group=G in the --from URL)',
    })
  return withMappingStreams(options, async ({ old, neu, extract, timeOf, tol }) => {
    const committed = await fetchGroupOffsets(src, group)
    if ([...committed.values()].every((o) => o < 0n)) {
      throw new TandemError('TANDEM_ERR_EVENTS_GROUP', {
        group,
        url: redact(options.from),
        detail: `it has committed no offset on topic ${src.topic}`,
      })
    }
    const oldEnd = await old.end()
    const ends = endsOf(oldEnd)
    // The unconsumed part: from each partition's committed offset to its end; its earliest time is tMin.
    const after = new Map(
      [...ends.keys()].map((p) => [p, (committed.get(p) ?? -1n) < 0n ? -1n : committed.get(p)! - 1n]),
    )
    const unconsumed = new Map<number, number>()
    let tMin = Number.POSITIVE_INFINITY
    if (oldEnd !== undefined) {
      for await (const batch of old.read({ after: formatVector(after), until: oldEnd })) {
        for (const e of batch) {
          const [p] = splitPosition(e.position)
          unconsumed.set(p, (unconsumed.get(p) ?? 0) + 1)
          tMin = Math.min(tMin, agreedTime(e, timeOf))
        }
      }
    }
    // K: ids the group consumed whose time is near or after tMin; anything older is recognised by time.
    const consumed = new Set<string>()
    if ([...after.values()].some((o) => o >= 0n)) {
      for await (const batch of old.read({ until: formatVector(after) })) {
        for (const e of batch)
          if (agreedTime(e, timeOf) >= tMin - 2 * tol) consumed.add(requireId(extract, e, options.from, options.id))
      }
    }
    const target = await scanTarget(neu, extract, timeOf, options, consumed, tMin - tol)
    if (options.commit === true)
      await commitGroupOffsets(dst, group, new Map(target.map((t) => [t.partition, BigInt(t.offset)])))
    const source = [...ends].map(([p, end]) => ({
      partition: p,
      committed: (committed.get(p) ?? -1n) < 0n ? null : String(committed.get(p)),
      end: String(end + 1n),
      unconsumed: unconsumed.get(p) ?? 0,
    }))
    return {
      from: redact(options.from),
      to: redact(options.to),
      group,
      committed: options.commit === true,
      source,
      target,
      unconsumed: source.reduce((n, s) => n + s.unconsumed, 0),
      redeliveries: target.reduce((n, t) => n + t.redeliveries, 0),
      windowIds: consumed.size,
    }
  })
}

/** Per new partition, the first message not known to be consumed, and the known-consumed ones after it. */
async function scanTarget(
  neu: EventStream,
  extract: Extractor,
  timeOf: Extractor | undefined,
  o: MapGroupOptions,
  consumed: ReadonlySet<string>,
  before: number,
): Promise<TargetPartition[]> {
  const end = await neu.end()
  const ends = endsOf(end)
  const first = new Map<number, bigint>()
  const repeats = new Map<number, number>()
  if (end !== undefined) {
    for await (const batch of neu.read({ until: end })) {
      for (const e of batch) {
        const [p, offset] = splitPosition(e.position)
        const known = agreedTime(e, timeOf) < before || consumed.has(requireId(extract, e, o.to, o.id))
        if (!first.has(p)) {
          if (!known) first.set(p, offset)
        } else if (known) repeats.set(p, (repeats.get(p) ?? 0) + 1)
      }
    }
  }
  return [...ends].map(([p, last]) => ({
    partition: p,
    offset: String(first.get(p) ?? last + 1n),
    end: String(last + 1n),
    redeliveries: repeats.get(p) ?? 0,
  }))
}

function requireId(extract: Extractor, e: Parameters<Extractor>[0], url: string, text: string | undefined): string {
  const id = idOf(extract, e)
  if (id === undefined)
    throw new TandemError('TANDEM_ERR_EVENTS_NO_ID', {
      position: e.position,
      url: redact(url),
      extractor: text ?? 'message-id',
    })
  return id
}

/** Partition -> last offset (-1 when empty), from an `end()` vector. */
function endsOf(end: string | undefined): Map<number, bigint> {
  if (end === undefined) return new Map()
  return new Map(end.split(',').map((pair) => splitPosition(pair)))
}

function kafkaUrl(text: string): KafkaUrl {
  const u = parseStreamUrl(text)
  if (u.kind !== 'kafka')
    throw new TandemError('TANDEM_ERR_USAGE', {
      detail: `--group maps Kafka consumer group offsets: ${redact(text)} is not a kafka:// URL (use --position for other brokers)`,
    })
  return u
}
