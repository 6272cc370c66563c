// `tandem events bridge`: copies the old stream into the new one keeping message ids and carrying the
// source publish time, and checkpoints after every acknowledged batch so a restart resumes where it was.
import { readFile, rename, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { TandemError } from '../errors.js'
import { SOURCE_TIME_HEADER, type EventStream, type StoredEvent } from './event-stream.js'
import { idOf, parseExtractor, type Extractor } from './extractors.js'
import { openStream } from './open-stream.js'
import { redact } from './stream-url.js'

export interface BridgeOptions {
  readonly from: string
  readonly to: string
  /** Where the id is in old messages (default: the broker's message id, else `pos:POSITION`). */
  readonly id?: string
  /** JSON checkpoint file, rewritten (atomically) after every batch the new broker acknowledged. */
  readonly checkpoint?: string
  /** Stop once caught up with the old stream; otherwise follow until `signal` aborts. */
  readonly untilIdle?: boolean
  readonly signal?: AbortSignal
  readonly batch?: number
  /** Stop after about this many messages (whole batches); for scripted partial runs. */
  readonly limit?: number
  /** How long to wait between polls when caught up, in follow mode (default 500 ms). */
  readonly pollMs?: number
  readonly onBatch?: (progress: BridgeProgress) => void
}

export interface BridgeProgress {
  readonly copied: number
  readonly position: string | undefined
}

export interface BridgeResult extends BridgeProgress {
  /** Position the run started after (from the checkpoint), undefined for a fresh start. */
  readonly resumedFrom: string | undefined
}

interface Checkpoint {
  from: string
  to: string
  position: string
  copied: number
  updatedAt: string
}

export async function bridge(options: BridgeOptions): Promise<BridgeResult> {
  const extract = options.id === undefined ? undefined : parseExtractor(options.id, '--id')
  const saved = options.checkpoint === undefined ? undefined : await readCheckpoint(options.checkpoint, options)
  const src = await openStream(options.from, { mustExist: true })
  let dst: EventStream | undefined
  let position = saved?.position
  let copied = 0
  try {
    dst = await openStream(options.to, { create: true })
    const total = saved?.copied ?? 0
    for (;;) {
      if (options.signal?.aborted) break
      const end = await src.end()
      const caughtUp = end === undefined || (position !== undefined && src.comparePositions(position, end) >= 0)
      if (caughtUp) {
        if (options.untilIdle) break
        await sleep(options.pollMs ?? 500, undefined, { signal: options.signal }).catch(() => {})
        continue
      }
      for await (const batch of src.read({
        ...(position !== undefined ? { after: position } : {}),
        until: end,
        batch: options.batch ?? 500,
      })) {
        const target = dst
        // Publishes of one batch go out together (one connection keeps their order) and are all acknowledged
        // before the checkpoint moves: a crash repeats at most this batch.
        await Promise.all(
          batch.map((e) =>
            target.publish({
              id: bridgeId(e, extract, options.id),
              data: e.data,
              headers: carriedHeaders(e),
              ...(e.key !== undefined ? { key: e.key } : {}),
            }),
          ),
        )
        position = src.cursor !== undefined ? src.cursor(position, batch) : batch[batch.length - 1]!.position
        copied += batch.length
        if (options.checkpoint !== undefined) {
          await writeCheckpoint(options.checkpoint, {
            from: redact(options.from),
            to: redact(options.to),
            position,
            copied: total + copied,
            updatedAt: new Date().toISOString(),
          })
        }
        options.onBatch?.({ copied, position })
        if ((options.limit !== undefined && copied >= options.limit) || options.signal?.aborted)
          return { copied, position, resumedFrom: saved?.position }
      }
    }
    return { copied, position, resumedFrom: saved?.position }
  } finally {
    await Promise.all([src.close(), dst?.close()])
  }
}

function bridgeId(e: StoredEvent, extract: Extractor | undefined, text: string | undefined): string {
  if (extract !== undefined) {
    const id = idOf(extract, e)
    if (id === undefined)
      throw new TandemError('TANDEM_ERR_EVENTS_NO_ID', { position: e.position, url: 'the old stream', extractor: text })
    return id
  }
  // Without an id the source position stands in: stable across restarts, so NATS still deduplicates.
  return e.messageId ?? `pos:${e.position}`
}

function carriedHeaders(e: StoredEvent): Record<string, string> {
  if (e.headers[SOURCE_TIME_HEADER] !== undefined || !Number.isFinite(e.time)) return { ...e.headers }
  return { ...e.headers, [SOURCE_TIME_HEADER]: String(e.time) }
}

async function readCheckpoint(file: string, o: BridgeOptions): Promise<Checkpoint | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new TandemError('TANDEM_ERR_EVENTS_CHECKPOINT', { file, detail: String(error) })
  }
  let cp: Checkpoint
  try {
    cp = JSON.parse(text) as Checkpoint
  } catch {
    throw new TandemError('TANDEM_ERR_EVENTS_CHECKPOINT', { file, detail: 'it is not JSON' })
  }
  if (typeof cp.position !== 'string')
    throw new TandemError('TANDEM_ERR_EVENTS_CHECKPOINT', { file, detail: 'it has no position' })
  if (cp.from !== redact(o.from) || cp.to !== redact(o.to)) {
    throw new TandemError('TANDEM_ERR_EVENTS_CHECKPOINT', {
      file,
      detail: `it belongs to the bridge ${cp.from} -> ${cp.to}`,
    })
  }
  return cp
}

async function writeCheckpoint(file: string, cp: Checkpoint): Promise<void> {
  // Write then rename: a crash leaves either the old or the new checkpoint, never half of one.
  const tmp = `${file}.tmp`
  await writeFile(tmp, `${JSON.stringify(cp)}\n`)
  await rename(tmp, file)
}
