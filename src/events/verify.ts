// `verifyStreams`: proves an event stream migration lost nothing. Reads both streams (bounded batches,
// several passes, each bounded by the ends seen at the start) and reports missing, extra and duplicated ids.
import { TandemError } from '../errors.js'
import type { EventStream } from './event-stream.js'
import { agreedTime, idOf, parseExtractor, type Extractor } from './extractors.js'
import { openStream } from './open-stream.js'
import { redact } from './stream-url.js'
import { runVerification, type SideScan } from './verify-engine.js'
import type { Duplicate } from './drill-down.js'

export interface VerifyOptions {
  /** Old (authoritative) stream URL. */
  readonly from: string
  /** New stream URL. */
  readonly to: string
  /** `/json/pointer`, `$.json.path`, `header:NAME` or `message-id`. */
  readonly id: string
  /** Where the event's own timestamp is (same forms as `id`); default: carried source time, else broker time. */
  readonly time?: string
  /** Window in ms since the epoch: [since, until). */
  readonly since?: number
  readonly until?: number
  /** Bucket width in ms (default 60 000). */
  readonly bucketMs?: number
  /** Clock tolerance in ms (default 5 000): borderline messages are looked for this far into neighbours. */
  readonly toleranceMs?: number
  /** Most ids one drill-down pass holds in memory (default 200 000). */
  readonly maxIds?: number
}

export interface VerifyReport {
  readonly from: string
  readonly to: string
  readonly ok: boolean
  readonly counts: { readonly old: number; readonly new: number }
  readonly buckets: number
  readonly differingBuckets: number
  readonly missing: string[]
  readonly extra: string[]
  readonly duplicates: Duplicate[]
  readonly passes: number
  readonly durationMs: number
}

export async function verifyStreams(options: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now()
  const bucketMs = options.bucketMs ?? 60_000
  const toleranceMs = options.toleranceMs ?? 5_000
  const idOfEvent = parseExtractor(options.id, '--id')
  const timeOf = options.time === undefined ? undefined : parseExtractor(options.time, '--time')
  if (!(bucketMs >= 1)) throw new TandemError('TANDEM_ERR_USAGE', { detail: '--bucket must be at least 1ms' })
  checkWindow(options.since, options.until)
  const old = await openStream(options.from, { mustExist: true })
  let neu: EventStream | undefined
  try {
    neu = await openStream(options.to, { mustExist: true })
    const since = options.since ?? Number.NEGATIVE_INFINITY
    const until = options.until ?? Number.POSITIVE_INFINITY
    // Each pass reads up to the end seen now, so messages arriving meanwhile never skew a comparison.
    const [oldEnd, newEnd] = await bothEnds(old, neu)
    const scan =
      (stream: EventStream, end: string | undefined): SideScan =>
      (visit) =>
        // A payload time may be far from the broker time, so only broker-time windows may seek.
        scanStream(
          stream,
          end,
          timeOf === undefined ? since - 2 * toleranceMs : Number.NEGATIVE_INFINITY,
          idOfEvent,
          options.id,
          timeOf,
          visit,
        )
    const result = await runVerification(scan(old, oldEnd), scan(neu, newEnd), {
      bucketMs,
      toleranceMs,
      maxIds: options.maxIds ?? 200_000,
      since,
      until,
    })
    return {
      from: redact(options.from),
      to: redact(options.to),
      ok: result.missing.length === 0 && result.extra.length === 0 && result.duplicates.length === 0,
      counts: { old: result.oldCount, new: result.newCount },
      buckets: result.buckets,
      differingBuckets: result.differingBuckets,
      missing: result.missing,
      extra: result.extra,
      duplicates: result.duplicates,
      passes: result.passes,
      durationMs: Date.now() - started,
    }
  } finally {
    await Promise.all([old.close(), neu?.close()])
  }
}

/** Both ends, read at once; when both fail (e.g. two missing streams) the old side's error is the one reported. */
async function bothEnds(old: EventStream, neu: EventStream): Promise<[string | undefined, string | undefined]> {
  const [a, b] = await Promise.allSettled([old.end(), neu.end()])
  if (a.status === 'rejected') throw a.reason
  if (b.status === 'rejected') throw b.reason
  return [a.value, b.value]
}

/**
 * The window [since, until) must be a real interval: an empty or inverted one would verify nothing and say "no loss".
 */
function checkWindow(since: number | undefined, until: number | undefined): void {
  const iso = (t: number): string => (Number.isFinite(t) ? new Date(t).toISOString() : String(t))
  for (const [name, t] of [
    ['--since', since],
    ['--until', until],
  ] as const) {
    if (t !== undefined && Number.isNaN(t))
      throw new TandemError('TANDEM_ERR_USAGE', { detail: `${name} is not a time` })
  }
  if (since !== undefined && until !== undefined && since >= until) {
    throw new TandemError('TANDEM_ERR_USAGE', {
      detail: `--since (${iso(since)}) must be before --until (${iso(until)}); the window is [since, until)`,
    })
  }
}

async function scanStream(
  stream: EventStream,
  end: string | undefined,
  fromTime: number,
  idOfEvent: Extractor,
  idText: string,
  timeOf: Extractor | undefined,
  visit: (time: number, id: string) => void,
): Promise<void> {
  if (end === undefined) return
  const read = stream.read({ until: end, ...(Number.isFinite(fromTime) ? { fromTime } : {}) })
  for await (const batch of read) {
    for (const event of batch) {
      const id = idOf(idOfEvent, event)
      if (id === undefined)
        throw new TandemError('TANDEM_ERR_EVENTS_NO_ID', {
          position: event.position,
          url: redact(stream.url),
          extractor: idText,
        })
      const t = agreedTime(event, timeOf)
      if (!Number.isFinite(t)) {
        throw new TandemError('TANDEM_ERR_EVENTS_NO_TIME', {
          position: event.position,
          url: redact(stream.url),
          detail: timeOf ? 'at --time' : 'from the broker',
        })
      }
      visit(t, id)
    }
  }
}
