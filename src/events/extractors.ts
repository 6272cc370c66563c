// `--id` and `--time`: where a message's identity and its agreed time come from. Forms: a JSON path into
// the payload (JSON Pointer `/order/id` or `$.order.id`), `header:NAME`, `message-id` (broker's own id) or
// `key` (the Kafka record key).
import { TandemError } from '../errors.js'
import { SOURCE_TIME_HEADER, type StoredEvent } from './event-stream.js'

export type Extractor = (event: StoredEvent) => unknown

export function parseExtractor(text: string, option: '--id' | '--time'): Extractor {
  const bad = (): TandemError => new TandemError('TANDEM_ERR_EVENTS_EXTRACTOR', { option, value: text })
  if (text === 'message-id') return (e) => e.messageId
  if (text === 'key') return (e) => (e.key === undefined ? undefined : Buffer.from(e.key).toString('utf8'))
  if (text.startsWith('header:')) {
    const name = text.slice('header:'.length).toLowerCase()
    if (name === '') throw bad()
    return (e) => {
      if (name === 'nats-msg-id') return e.messageId
      for (const k in e.headers) if (k.toLowerCase() === name) return e.headers[k]
      return undefined
    }
  }
  const path = parsePath(text)
  if (path === undefined) throw bad()
  return (e) => {
    let v: unknown
    try {
      v = JSON.parse(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('utf8'))
    } catch {
      return undefined
    }
    for (const key of path) {
      if (v === null || typeof v !== 'object') return undefined
      v = (v as Record<string, unknown>)[key]
    }
    return v
  }
}

/** `/a/b~1c` (JSON Pointer) or `$.a.b` / `$.a[0]` -> keys; undefined when neither. */
export function parsePath(text: string): string[] | undefined {
  if (text.startsWith('/'))
    return text
      .slice(1)
      .split('/')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (text.startsWith('$.') || text.startsWith('$[')) {
    const keys: string[] = []
    const re = /\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\["([^"]*)"\]|\['([^']*)'\]/y
    let i = 1
    while (i < text.length) {
      re.lastIndex = i
      const m = re.exec(text)
      if (m === null) return undefined
      keys.push(m[1] ?? m[2] ?? m[3] ?? m[4] ?? '')
      i = re.lastIndex
    }
    return keys.length > 0 ? keys : undefined
  }
  return undefined
}

/** The id as a string, or undefined when missing; numbers count as ids. */
export function idOf(extract: Extractor, event: StoredEvent): string | undefined {
  const v = extract(event)
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'bigint') return String(v)
  return undefined
}

/**
 * The time both sides agree on, in ms: the payload's timestamp when `--time` is given, else the source
 * time the bridge or dualPublish carried across, else the broker's publish time.
 */
export function agreedTime(event: StoredEvent, time: Extractor | undefined): number {
  if (time !== undefined) return toMillis(time(event))
  const carried = event.headers[SOURCE_TIME_HEADER]
  if (carried !== undefined) {
    const t = Number(carried)
    if (Number.isFinite(t)) return t
  }
  return event.time
}

/** Numbers above 1e11 are ms, below are seconds; strings are ISO-8601 (or numeric). NaN when unusable. */
export function toMillis(v: unknown): number {
  if (typeof v === 'number') return v > 1e11 ? v : v * 1000
  if (typeof v === 'string') {
    if (/^\d+(\.\d+)?$/.test(v)) return toMillis(Number(v))
    return Date.parse(v)
  }
  return Number.NaN
}
