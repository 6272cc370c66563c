// `tandem events map-position`: where a consumer of the old stream resumes on the new one so that nothing
// is skipped (at-least-once): the first new message not known to correspond to an old message at or
// before the consumer's last processed position. docs/events.md explains the algorithm and its bounds.
import { TandemError } from '../errors.js'
import type { EventStream } from './event-stream.js'
import { agreedTime, idOf, parseExtractor, type Extractor } from './extractors.js'
import { openStream } from './open-stream.js'
import { redact } from './stream-url.js'

export interface MapPositionOptions {
  readonly from: string
  readonly to: string
  /** The consumer's last processed position on the old stream. */
  readonly position: string
  /** Where the id is (default `message-id`). */
  readonly id?: string
  readonly time?: string
  /** Clock tolerance in ms (default 5 000); see docs/events.md. */
  readonly toleranceMs?: number
}

export interface MappedPosition {
  readonly from: string
  readonly to: string
  readonly oldPosition: string
  readonly oldTime: string
  /** First new-stream position to process (inclusive); null when the new stream holds nothing after it yet. */
  readonly newPosition: string | null
  /** The new-stream position just before newPosition (or its end when newPosition is null): resume after it. */
  readonly resumeAfter: string | null
  /** Old messages in the tolerance window before the position, held as ids. */
  readonly windowIds: number
  readonly scannedNew: number
}

/** What both mappings (a position, a Kafka group) read: the two streams and how to find ids and times. */
export interface MappingInputs {
  readonly old: EventStream
  readonly neu: EventStream
  readonly extract: Extractor
  readonly timeOf: Extractor | undefined
  /** Clock tolerance in ms. */
  readonly tol: number
}

/** Parse --id/--time, open both streams (which must exist), run `map`, and close them whatever happens. */
export async function withMappingStreams<T>(
  options: Pick<MapPositionOptions, 'from' | 'to' | 'id' | 'time' | 'toleranceMs'>,
  map: (inputs: MappingInputs) => Promise<T>,
): Promise<T> {
  const extract = parseExtractor(options.id ?? 'message-id', '--id')
  const timeOf = options.time === undefined ? undefined : parseExtractor(options.time, '--time')
  const old = await openStream(options.from, { mustExist: true })
  let neu: EventStream | undefined
  try {
    neu = await openStream(options.to, { mustExist: true })
    return await map({ old, neu, extract, timeOf, tol: options.toleranceMs ?? 5_000 })
  } finally {
    await Promise.all([old.close(), neu?.close()])
  }
}

export function mapPosition(options: MapPositionOptions): Promise<MappedPosition> {
  return withMappingStreams(options, async ({ old, neu, extract, timeOf, tol }) => {
    const p = old.parsePosition(options.position)
    const at = await old.at(p)
    if (at === undefined)
      throw new TandemError('TANDEM_ERR_EVENTS_POSITION', {
        url: redact(options.from),
        position: p,
        detail: 'no message is stored there',
      })
    const tP = agreedTime(at, timeOf)
    // B: ids of old messages at or before P within the tolerance window; anything older is recognised by time.
    const before = new Set<string>()
    const seek = timeOf === undefined ? { fromTime: tP - 2 * tol } : {}
    for await (const batch of old.read({ ...seek, until: p })) {
      for (const e of batch) {
        const id = idOf(extract, e)
        if (id !== undefined && agreedTime(e, timeOf) >= tP - tol) before.add(id)
      }
    }
    const newEnd = await neu.end()
    let lastSkipped: string | null = null
    let scanned = 0
    if (newEnd !== undefined) {
      for await (const batch of neu.read({ ...seek, until: newEnd })) {
        for (const e of batch) {
          scanned++
          const id = idOf(extract, e)
          const known = agreedTime(e, timeOf) < tP - tol || (id !== undefined && before.has(id))
          if (!known) return result(options, p, tP, e.position, lastSkipped, before.size, scanned)
          lastSkipped = e.position
        }
      }
    }
    return result(options, p, tP, null, newEnd ?? null, before.size, scanned)
  })
}

function result(
  o: MapPositionOptions,
  p: string,
  tP: number,
  newPosition: string | null,
  resumeAfter: string | null,
  windowIds: number,
  scannedNew: number,
): MappedPosition {
  return {
    from: redact(o.from),
    to: redact(o.to),
    oldPosition: p,
    oldTime: Number.isFinite(tP) ? new Date(tP).toISOString() : 'unknown',
    newPosition,
    resumeAfter,
    windowIds,
    scannedNew,
  }
}
