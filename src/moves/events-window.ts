// One verification window of an events system: the buckets since the last verified one, checked with
// the existing verification engine (count and hash per bucket, drill-down, census of candidate ids).
import type { SystemConfig } from '../config/schema.js'
import { verifyStreams } from '../events/verify.js'

export type EventsConfig = NonNullable<SystemConfig['events']>

export interface EventsWindow {
  readonly counts: { readonly old: number; readonly new: number }
  readonly missing: readonly string[]
  readonly missingCount: number
  readonly extra: readonly string[]
  readonly extraCount: number
  readonly duplicates: readonly { readonly id: string; readonly old: number; readonly new: number }[]
}

/** Verify [since, until) (bucket-aligned by the caller); the lag is the clock tolerance. */
export async function verifyEventsWindow(
  ev: EventsConfig,
  since: number,
  until: number,
  cap: number,
): Promise<EventsWindow> {
  const report = await verifyStreams({
    from: ev.from,
    to: ev.to,
    id: ev.id,
    ...(ev.time === undefined ? {} : { time: ev.time }),
    since,
    until,
    bucketMs: ev.bucket,
    toleranceMs: ev.lag,
  })
  return {
    counts: report.counts,
    missing: report.missing.slice(0, cap),
    missingCount: report.missing.length,
    extra: report.extra.slice(0, cap),
    extraCount: report.extra.length,
    duplicates: report.duplicates.slice(0, cap),
  }
}
