// The one format of a stream URL (`nats://`, `amqp://`, `redis://`), parsed and validated once here;
// docs/events.md documents it. A bad URL is a coded error that shows a working example.
import { TandemError } from '../errors.js'
import { redactSecrets } from '../redact.js'

export type StreamUrl =
  | {
      readonly kind: 'nats'
      readonly url: string
      readonly servers: string
      readonly user?: string
      readonly pass?: string
      readonly stream: string
      readonly subject?: string
    }
  | { readonly kind: 'amqp'; readonly url: string; readonly connection: string; readonly stream: string }
  | { readonly kind: 'redis'; readonly url: string; readonly connection: string; readonly key: string }
  | KafkaUrl

/** `kafka://[user:pass@]host:port[,host:port]/topic[?group=G&tls=true&sasl=plain|scram-sha-256|scram-sha-512]`. */
export interface KafkaUrl {
  readonly kind: 'kafka'
  readonly url: string
  readonly brokers: readonly string[]
  readonly topic: string
  readonly group?: string
  readonly tls: boolean
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'
    readonly username: string
    readonly password: string
  }
}

const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/
const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const

const STREAM_NAME = /^[A-Za-z0-9_-]+$/

export function parseStreamUrl(text: string): StreamUrl {
  const bad = (detail: string): TandemError =>
    new TandemError('TANDEM_ERR_EVENTS_URL', { url: redactSecrets(text), detail })
  if (/^kafkas?:\/\//.test(text)) return parseKafkaUrl(text, bad)
  let u: URL
  try {
    u = new URL(text)
  } catch {
    throw bad('it is not a URL')
  }
  const path = decodeURIComponent(u.pathname.replace(/^\//, ''))
  const allowed = (names: string[]): void => {
    for (const key of u.searchParams.keys())
      if (!names.includes(key)) throw bad(`unknown parameter "${key}" (allowed: ${names.join(', ')})`)
  }
  if (u.hostname === '') throw bad('the host is missing')
  switch (u.protocol) {
    case 'nats:':
    case 'tls:': {
      allowed(['subject'])
      if (path === '') throw bad('the JetStream stream name is missing from the path')
      if (!STREAM_NAME.test(path)) throw bad(`"${path}" is not a JetStream stream name (letters, digits, _ and -)`)
      const subject = u.searchParams.get('subject') ?? undefined
      if (subject !== undefined && (subject === '' || /\s/.test(subject)))
        throw bad('subject is empty or contains spaces')
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

// Parsed by hand: WHATWG URL parsing refuses the comma-separated broker list of a Kafka bootstrap.
function parseKafkaUrl(text: string, bad: (detail: string) => TandemError): KafkaUrl {
  const m = /^(kafkas?):\/\/(?:([^@/]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/.exec(text)
  if (m === null) throw bad('it is not a kafka://HOST:PORT[,HOST:PORT]/TOPIC URL')
  const [, scheme, userinfo, hosts, rawTopic, query] = m
  const brokers = (hosts ?? '').split(',').filter((h) => h !== '')
  if (brokers.length === 0) throw bad('the broker list (host:port[,host:port]) is missing')
  for (const b of brokers)
    if (!/^[^:\s]+:\d{1,5}$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b))
      throw bad(`broker "${b}" is not host:port`)
  const topic = decodeURIComponent(rawTopic ?? '')
  if (topic === '') throw bad('the topic is missing from the path')
  if (!KAFKA_TOPIC.test(topic))
    throw bad(`"${topic}" is not a Kafka topic name (letters, digits, ".", "_" and "-", at most 249)`)
  const params = new URLSearchParams(query ?? '')
  for (const key of params.keys())
    if (!['group', 'tls', 'sasl'].includes(key)) throw bad(`unknown parameter "${key}" (allowed: group, tls, sasl)`)
  const group = params.get('group') ?? undefined
  if (group === '') throw bad('group is empty')
  const tlsText = params.get('tls')
  if (tlsText !== null && !['true', 'false', '1', '0'].includes(tlsText)) throw bad('tls is true or false')
  const tls = scheme === 'kafkas' || tlsText === 'true' || tlsText === '1'
  const mechanism = params.get('sasl')?.toLowerCase()
  let sasl: KafkaUrl['sasl']
  if (mechanism !== undefined || (userinfo !== undefined && userinfo !== '')) {
    const m2 = (mechanism ?? 'plain') as (typeof SASL_MECHANISMS)[number]
    if (!SASL_MECHANISMS.includes(m2)) throw bad(`sasl "${mechanism}" is not supported (${SASL_MECHANISMS.join(', ')})`)
    const colon = (userinfo ?? '').indexOf(':')
    if (userinfo === undefined || colon < 0) throw bad('SASL needs user:password@ before the brokers')
    sasl = {
      mechanism: m2,
      username: decodeURIComponent(userinfo.slice(0, colon)),
      password: decodeURIComponent(userinfo.slice(colon + 1)),
    }
  }
  return {
    kind: 'kafka',
    url: text,
    brokers,
    topic,
    ...(group !== undefined ? { group } : {}),
    tls,
    ...(sasl !== undefined ? { sasl } : {}),
  }
}

/** The URL without its password or secret parameters, for messages, logs and checkpoints (src/redact.ts). */
export { redactSecrets as redact }
