// The one format of a stream URL (`nats://`, `amqp://`, `redis://`), parsed and validated once here;
// docs/events.md documents it. A bad URL is a coded error that shows a working example.
import { TandemError } from '../errors.js'
import { redactSecrets } from '../redact.js'

export type StreamUrl =
  | { readonly kind: 'nats'; readonly url: string; readonly servers: string; readonly user?: string; readonly pass?: string; readonly stream: string; readonly subject?: string }
  | { readonly kind: 'amqp'; readonly url: string; readonly connection: string; readonly stream: string }
  | { readonly kind: 'redis'; readonly url: string; readonly connection: string; readonly key: string }

const STREAM_NAME = /^[A-Za-z0-9_-]+$/

export function parseStreamUrl(text: string): StreamUrl {
  const bad = (detail: string): TandemError => new TandemError('TANDEM_ERR_EVENTS_URL', { url: redactSecrets(text), detail })
  let u: URL
  try {
    u = new URL(text)
  } catch {
    throw bad('it is not a URL')
  }
  const path = decodeURIComponent(u.pathname.replace(/^\//, ''))
  const allowed = (names: string[]): void => {
    for (const key of u.searchParams.keys()) if (!names.includes(key)) throw bad(`unknown parameter "${key}" (allowed: ${names.join(', ')})`)
  }
  if (u.hostname === '') throw bad('the host is missing')
  switch (u.protocol) {
    case 'nats:':
    case 'tls:': {
      allowed(['subject'])
      if (path === '') throw bad('the JetStream stream name is missing from the path')
      if (!STREAM_NAME.test(path)) throw bad(`"${path}" is not a JetStream stream name (letters, digits, _ and -)`)
      const subject = u.searchParams.get('subject') ?? undefined
      if (subject !== undefined && (subject === '' || /\s/.test(subject))) throw bad('subject is empty or contains spaces')
      return {
        kind: 'nats',
        url: text,
        servers: `${u.protocol}//${u.host}`,
        ...(u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : {}),
        stream: path,
        ...(subject !== undefined ? { subject } : {}),
      }
    }
    case 'amqp:':
    case 'amqps:': {
      allowed(['stream'])
      const stream = u.searchParams.get('stream')
      if (!stream) throw bad('the ?stream=NAME parameter (a RabbitMQ stream queue) is missing')
      const conn = new URL(text)
      conn.search = ''
      return { kind: 'amqp', url: text, connection: conn.toString(), stream }
    }
    case 'redis:':
    case 'rediss:': {
      allowed(['stream'])
      const key = u.searchParams.get('stream')
      if (!key) throw bad('the ?stream=KEY parameter (a Redis stream key) is missing')
      if (path !== '' && !/^\d+$/.test(path)) throw bad(`"${path}" is not a database number`)
      const conn = new URL(text)
      conn.search = ''
      return { kind: 'redis', url: text, connection: conn.toString(), key }
    }
    default:
      throw bad(`scheme "${u.protocol}" is not supported`)
  }
}

/** The URL without its password or secret parameters, for messages, logs and checkpoints (src/redact.ts). */
export { redactSecrets as redact }
