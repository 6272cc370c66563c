// `dualPublish(old, new)`: publish every event to both brokers during a migration. The old broker is
// authoritative (its failure is the caller's); a failure on the new one is logged as JSONL for replay.
import { appendFile, readFile } from 'node:fs/promises'
import { TandemError } from '../errors.js'
import { SOURCE_TIME_HEADER, toBytes, type EventStream, type OutgoingEvent } from './event-stream.js'

export interface PublishOutcome {
  readonly id: string
  readonly old: 'ok' | 'error'
  readonly new: 'ok' | 'error' | 'skipped'
  readonly error?: string
}

export interface DualPublishOptions {
  /** JSONL file where events the new broker failed are appended (with their payload) for `replay`. */
  readonly replayLog?: string
  /** Called with every outcome (metrics, logs). */
  readonly onOutcome?: (outcome: PublishOutcome) => void
}

export interface DualPublisher {
  /** Publishes to old then new; throws (with the outcome as details) when the old broker fails. */
  publish(event: OutgoingEvent): Promise<PublishOutcome>
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
  return {
    async publish(event) {
      // One source time on both copies, so `events verify` buckets them identically whatever the clocks.
      const headers = { [SOURCE_TIME_HEADER]: String(Date.now()), ...event.headers }
      const copy = { ...event, headers }
      try {
        await old.publish(copy)
      } catch (error) {
        const outcome: PublishOutcome = { id: event.id, old: 'error', new: 'skipped', error: String(error) }
        options.onOutcome?.(outcome)
        throw error instanceof TandemError ? error : new TandemError('TANDEM_ERR_EVENTS_PUBLISH', { url: old.url, detail: String(error) }, { cause: error, details: outcome })
      }
      let outcome: PublishOutcome
      try {
        await neu.publish(copy)
        outcome = { id: event.id, old: 'ok', new: 'ok' }
      } catch (error) {
        outcome = { id: event.id, old: 'ok', new: 'error', error: String(error) }
        if (options.replayLog !== undefined) {
          const entry: ReplayEntry = { at: new Date().toISOString(), id: event.id, to: neu.url, error: String(error), data: Buffer.from(toBytes(event.data)).toString('base64'), headers, ...(event.key !== undefined ? { key: Buffer.from(toBytes(event.key)).toString('base64') } : {}) }
          await appendFile(options.replayLog, `${JSON.stringify(entry)}\n`)
        }
      }
      options.onOutcome?.(outcome)
      return outcome
    },
  }
}

/** Publishes every entry of a replay log to `stream` in order; returns how many were replayed. */
export async function replay(replayLog: string, stream: EventStream): Promise<number> {
  const lines = (await readFile(replayLog, 'utf8')).split('\n').filter((l) => l.trim() !== '')
  for (const line of lines) {
    const e = JSON.parse(line) as ReplayEntry
    await stream.publish({ id: e.id, data: Buffer.from(e.data, 'base64'), headers: e.headers, ...(e.key !== undefined ? { key: Buffer.from(e.key, 'base64') } : {}) })
  }
  return lines.length
}
