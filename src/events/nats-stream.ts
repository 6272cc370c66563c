// NATS JetStream adapter: a stream plus an optional subject filter; positions are stream sequences,
// the message id travels in the Nats-Msg-Id header (so the server deduplicates republished ids).
import {
  connect,
  DeliverPolicy,
  headers as natsHeaders,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats'
import { TandemError } from '../errors.js'
import { filterWithinStream } from './nats-subjects.js'
import {
  DEFAULT_BATCH,
  toBytes,
  type EventStream,
  type OutgoingEvent,
  type ReadOptions,
  type StoredEvent,
} from './event-stream.js'
import { redact, type StreamUrl } from './stream-url.js'

type NatsUrl = Extract<StreamUrl, { kind: 'nats' }>

export async function openNatsStream(target: NatsUrl): Promise<EventStream> {
  let nc: NatsConnection
  try {
    nc = await connect({ servers: target.servers, user: target.user, pass: target.pass, timeout: 5000 })
  } catch (error) {
    throw new TandemError('TANDEM_ERR_EVENTS_CONNECT', { url: redact(target.url), detail: String(error) })
  }
  const jsm = await nc.jetstreamManager()
  const info = await jsm.streams.info(target.stream).catch(() => undefined)
  if (info === undefined) {
    await nc.close()
    throw new TandemError('TANDEM_ERR_EVENTS_NOT_FOUND', { url: redact(target.url), stream: target.stream })
  }
  const subjects = info.config.subjects ?? []
  if (target.subject !== undefined && !filterWithinStream(target.subject, subjects)) {
    await nc.close()
    throw subjectOutside(target, subjects)
  }
  return new NatsStream(target, nc, jsm, nc.jetstream(), info.config.subjects[0])
}

function subjectOutside(target: NatsUrl, subjects: readonly string[]): TandemError {
  return new TandemError('TANDEM_ERR_EVENTS_SUBJECT', {
    url: redact(target.url),
    subject: target.subject,
    stream: target.stream,
    subjects: subjects.map((s) => `"${s}"`).join(', '),
  })
}

class NatsStream implements EventStream {
  readonly url: string
  constructor(
    private readonly target: NatsUrl,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly defaultSubject: string | undefined,
  ) {
    this.url = target.url
  }

  async publish(event: OutgoingEvent): Promise<string> {
    const subject = this.publishSubject()
    const h = natsHeaders()
    for (const [k, v] of Object.entries(event.headers ?? {})) h.set(k, v)
    try {
      const ack = await this.js.publish(subject, toBytes(event.data), { msgID: event.id, headers: h })
      return String(ack.seq)
    } catch (error) {
      throw new TandemError(
        'TANDEM_ERR_EVENTS_PUBLISH',
        { url: redact(this.url), detail: String(error) },
        { cause: error },
      )
    }
  }

  async *read(options: ReadOptions = {}): AsyncIterable<StoredEvent[]> {
    const last = options.until !== undefined ? Number(options.until) : Number((await this.end()) ?? 0)
    const batch = options.batch ?? DEFAULT_BATCH
    let start: Partial<{ deliver_policy: DeliverPolicy; opt_start_seq: number; opt_start_time: string }>
    if (options.after !== undefined) {
      if (Number(options.after) >= last) return
      start = { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Number(options.after) + 1 }
    } else if (options.fromTime !== undefined && Number.isFinite(options.fromTime)) {
      start = {
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: new Date(Math.max(0, options.fromTime)).toISOString(),
      }
    } else {
      // Not DeliverPolicy.All: the client's ordered consumer adds opt_start_seq to it, which the server rejects.
      start = { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 }
    }
    if (last === 0) return
    const consumer = await this.js.consumers
      .get(this.target.stream, {
        ...start,
        ...(this.target.subject !== undefined ? { filterSubjects: this.target.subject } : {}),
      })
      .catch(async (error: unknown) => {
        // The stream's subjects may have changed since the open: the server's own check, as a coded error.
        if (/filter subject is not a valid subset/i.test(String(error))) {
          throw subjectOutside(this.target, (await this.jsm.streams.info(this.target.stream)).config.subjects ?? [])
        }
        throw error
      })
    try {
      for (;;) {
        // Bounded fetches: an empty fetch (nothing matching before the end) ends the read after `expires`.
        const messages = await consumer.fetch({ max_messages: batch, expires: 1000 })
        const out: StoredEvent[] = []
        let done = false
        for await (const m of messages) {
          const seq = m.info.streamSequence
          if (seq > last) {
            done = true
            break
          }
          const headers: Record<string, string> = {}
          let messageId: string | undefined
          if (m.headers) {
            for (const [k, values] of m.headers) {
              if (k === 'Nats-Msg-Id') messageId = values[0]
              else headers[k] = values[0] ?? ''
            }
          }
          out.push({
            position: String(seq),
            time: Math.floor(m.info.timestampNanos / 1e6),
            messageId,
            headers,
            data: m.data,
          })
          if (seq >= last || m.info.pending === 0) done = true
          if (done) break
        }
        if (out.length > 0) yield out
        if (done || out.length === 0) return
      }
    } finally {
      await consumer.delete().catch(() => {})
    }
  }

  async at(position: string): Promise<StoredEvent | undefined> {
    const m = await this.jsm.streams.getMessage(this.target.stream, { seq: Number(position) }).catch(() => undefined)
    if (m === undefined) return undefined
    const headers: Record<string, string> = {}
    let messageId: string | undefined
    if (m.header) {
      for (const [k, values] of m.header) {
        if (k === 'Nats-Msg-Id') messageId = values[0]
        else headers[k] = values[0] ?? ''
      }
    }
    return { position: String(m.seq), time: m.time.getTime(), messageId, headers, data: m.data }
  }

  async end(): Promise<string | undefined> {
    const info = await this.jsm.streams.info(this.target.stream)
    return info.state.messages === 0 ? undefined : String(info.state.last_seq)
  }

  comparePositions(a: string, b: string): number {
    return Number(a) - Number(b)
  }

  parsePosition(text: string): string {
    if (!/^\d+$/.test(text))
      throw new TandemError('TANDEM_ERR_EVENTS_POSITION', {
        url: redact(this.url),
        position: text,
        detail: 'a NATS position is a stream sequence number',
      })
    return String(Number(text))
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close())
  }

  private publishSubject(): string {
    const s = this.target.subject
    if (s !== undefined && !s.includes('*') && !s.includes('>')) return s
    // A wildcard filter cannot be published to: use the stream's first literal subject.
    const d = this.defaultSubject
    if (d !== undefined && !d.includes('*') && !d.includes('>')) return d
    throw new TandemError('TANDEM_ERR_EVENTS_URL', {
      url: redact(this.url),
      detail: 'publishing needs a literal ?subject= (no wildcards)',
    })
  }
}
