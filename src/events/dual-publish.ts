// `dualPublish(old, new)`: publish every event to both brokers during a migration. The old broker is
// authoritative (its failure is the caller's); a failure on the new one is logged as JSONL for replay.
import { appendFile, readFile } from 'node:fs/promises'
import { TandemError } from '../errors.js'
import { SOURCE_TIME_HEADER, toBytes, type EventStream, type OutgoingEvent } from './event-stream.js'
import { followerOf, movePlan, type FollowSystem, type MovePlan } from '../flags/move.js'
import type { FlagFollower } from '../flags/follow.js'

export interface PublishOutcome {
  readonly id: string
  /** 'skipped': following a system, the old side was not published (completed, or the new side failed first). */
  readonly old: 'ok' | 'error' | 'skipped'
  readonly new: 'ok' | 'error' | 'skipped'
  readonly error?: string
}

/** With `{ system, admin }` the publisher follows that system's stage (see movePlan in src/flags/move.ts). */
export interface DualPublishOptions extends FollowSystem {
  /** JSONL file where events the new broker failed are appended (with their payload) for `replay`. */
  readonly replayLog?: string
  /** Called with every outcome (metrics, logs). */
  readonly onOutcome?: (outcome: PublishOutcome) => void
}

export interface DualPublisher {
  /** Publishes to old then new; throws (with the outcome as details) when the old broker fails. */
  publish(event: OutgoingEvent): Promise<PublishOutcome>
  /** The flag followed (with `{ system }`). */
  readonly flag?: FlagFollower | undefined
  close?(): void
}

interface ReplayEntry {
  at: string
  id: string
  to: string
  error: string
  data: string
  headers: Record<string, string>
  /** The record key (base64), when the event had one (Kafka). */
  key?: string
}

export function dualPublish(old: EventStream, neu: EventStream, options: DualPublishOptions = {}): DualPublisher {
  const flag = followerOf(options, 'dualPublish')
  return {
    flag,
    close: () => flag?.close(),
    async publish(event) {
      if (flag !== undefined) {
        const plan = movePlan(flag.stage)
        // Following a system: the authoritative side (old until promoted) is published first.
        if (plan.authority === 'new' || !plan.writeNew) return publishByPlan(old, neu, plan, event, options)
      }
      // One source time on both copies, so `events verify` buckets them identically whatever the clocks.
      const headers = { [SOURCE_TIME_HEADER]: String(Date.now()), ...event.headers }
      const copy = { ...event, headers }
      try {
        await old.publish(copy)
      } catch (error) {
        const outcome: PublishOutcome = { id: event.id, old: 'error', new: 'skipped', error: String(error) }
        options.onOutcome?.(outcome)
        throw error instanceof TandemError
          ? error
          : new TandemError(
              'TANDEM_ERR_EVENTS_PUBLISH',
              { url: old.url, detail: String(error) },
              { cause: error, details: outcome },
            )
      }
      let outcome: PublishOutcome
      try {
        await neu.publish(copy)
        outcome = { id: event.id, old: 'ok', new: 'ok' }
      } catch (error) {
        outcome = { id: event.id, old: 'ok', new: 'error', error: String(error) }
        if (options.replayLog !== undefined) {
          const entry: ReplayEntry = {
            at: new Date().toISOString(),
            id: event.id,
            to: neu.url,
            error: String(error),
            data: Buffer.from(toBytes(event.data)).toString('base64'),
            headers,
            ...(event.key !== undefined ? { key: Buffer.from(toBytes(event.key)).toString('base64') } : {}),
          }
          await appendFile(options.replayLog, `${JSON.stringify(entry)}\n`)
        }
      }
      options.onOutcome?.(outcome)
      return outcome
    },
  }
}

/**
 * Publish as a followed system's plan says when it is not the default old-then-new: the old side alone
 * (pending), or the new side first (promoted: its failure is the caller's) then the old one while it is
 * still written (a failure there is reported in the outcome, never thrown).
 */
async function publishByPlan(
  old: EventStream,
  neu: EventStream,
  plan: MovePlan,
  event: OutgoingEvent,
  options: DualPublishOptions,
): Promise<PublishOutcome> {
  const copy = { ...event, headers: { [SOURCE_TIME_HEADER]: String(Date.now()), ...event.headers } }
  const first = plan.authority === 'new' ? neu : old
  try {
    await first.publish(copy)
  } catch (error) {
    const failed: PublishOutcome =
      plan.authority === 'new'
        ? { id: event.id, old: 'skipped', new: 'error', error: String(error) }
        : { id: event.id, old: 'error', new: 'skipped', error: String(error) }
    options.onOutcome?.(failed)
    if (error instanceof TandemError) throw error
    const detail = String(error)
    throw new TandemError('TANDEM_ERR_EVENTS_PUBLISH', { url: first.url, detail }, { cause: error, details: failed })
  }
  let outcome: PublishOutcome =
    plan.authority === 'new'
      ? { id: event.id, old: plan.writeOld ? 'ok' : 'skipped', new: 'ok' }
      : { id: event.id, old: 'ok', new: 'skipped' }
  if (plan.authority === 'new' && plan.writeOld) {
    try {
      await old.publish(copy)
    } catch (error) {
      outcome = { id: event.id, old: 'error', new: 'ok', error: String(error) }
    }
  }
  options.onOutcome?.(outcome)
  return outcome
}

/** Publishes every entry of a replay log to `stream` in order; returns how many were replayed. */
export async function replay(replayLog: string, stream: EventStream): Promise<number> {
  const lines = (await readFile(replayLog, 'utf8')).split('\n').filter((l) => l.trim() !== '')
  for (const line of lines) {
    const e = JSON.parse(line) as ReplayEntry
    await stream.publish({
      id: e.id,
      data: Buffer.from(e.data, 'base64'),
      headers: e.headers,
      ...(e.key !== undefined ? { key: Buffer.from(e.key, 'base64') } : {}),
    })
  }
  return lines.length
}
