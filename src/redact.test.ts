// The one redaction function: URL passwords and secret query parameters never survive it, in a URL or
// in free text around one, and what is not a secret stays as written.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TandemError } from './errors.js'
import { isSecretParam, redactSecrets } from './redact.js'

const scheme = fc.constantFrom(
  'postgres',
  'postgresql',
  'mysql',
  'mariadb',
  'amqp',
  'amqps',
  'redis',
  'rediss',
  'nats',
  'http',
  'https',
)
const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/)
const host = fc.oneof(
  fc.constant('127.0.0.1'),
  fc.constant('[::1]'),
  fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')),
)
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined })
const path = fc
  .array(fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}$/), { maxLength: 3 })
  .map((s) => (s.length === 0 ? '' : `/${s.join('/')}`))
const user = fc.option(fc.stringMatching(/^[A-Za-z0-9_.-]{1,10}$/), { nil: '' })
// Any printable text, as an encoded URL would carry it...
const anyPassword = fc.string({ minLength: 1, maxLength: 24, unit: 'grapheme-ascii' })
// ...and as people write it by hand, unencoded, with `@`, `:` or `/` in it (drivers then fail and print it).
const rawPassword = fc.stringMatching(/^[A-Za-z0-9@:%!$*+,=~_.-][A-Za-z0-9@:/%!$*+,=~_.-]{0,23}$/)
const otherParam = fc.tuple(
  fc.constantFrom('schema', 'stream', 'subject', 'sslmode', 'page', 'application_name'),
  fc.stringMatching(/^[a-z0-9]{0,8}$/),
)

function url(parts: {
  scheme: string
  user: string
  password: string
  host: string
  port?: number
  path: string
  query: [string, string][]
}): string {
  const q = parts.query.length === 0 ? '' : `?${parts.query.map(([k, v]) => `${k}=${v}`).join('&')}`
  return `${parts.scheme}://${parts.user}:${parts.password}@${parts.host}${parts.port === undefined ? '' : `:${parts.port}`}${parts.path}${q}`
}

// Each property looks for the password anywhere but in the mask itself (a password `*@` is in `:***@`).
describe('redactSecrets on URLs with a password', () => {
  const shape = { scheme, user, host, port, path, query: fc.array(otherParam, { maxLength: 3 }) }

  it('never keeps an encoded password, and keeps the scheme, user, host, port and path', () => {
    fc.assert(
      fc.property(fc.record({ ...shape, password: anyPassword.map(encodeURIComponent) }), (p) => {
        const text = url(p)
        // A password that also occurs elsewhere in the URL (the user, the host) cannot be told apart.
        fc.pre(!text.replace(`:${p.password}@`, ':@').includes(p.password))
        const out = redactSecrets(text)
        expect(out.replace(':***@', ':@')).not.toContain(p.password)
        expect(out).toBe(url({ ...p, password: '***' }))
      }),
    )
  })

  it('never keeps a password written unencoded, even with @, : or / in it', () => {
    fc.assert(
      fc.property(fc.record({ ...shape, password: rawPassword }), (p) => {
        fc.pre(!/^\d{1,5}\/$/.test(p.password) && !(p.password.includes('@') && p.password.includes('/')))
        const text = url(p)
        fc.pre(!text.replace(`:${p.password}@`, ':@').includes(p.password))
        const out = redactSecrets(text)
        expect(out.replace(':***@', ':@')).not.toContain(p.password)
        expect(out).toContain(p.host)
      }),
    )
  })

  it('hides URL passwords inside free text, such as a driver message, and keeps the rest of it', () => {
    fc.assert(
      fc.property(fc.record({ ...shape, password: anyPassword.map(encodeURIComponent) }), (p) => {
        const text = `connect to "${url(p)}" failed: ECONNREFUSED ${p.host}`
        fc.pre(!text.replace(`:${p.password}@`, ':@').includes(p.password))
        const out = redactSecrets(text)
        expect(out.replace(':***@', ':@')).not.toContain(p.password)
        expect(out).toContain(`ECONNREFUSED ${p.host}`)
      }),
    )
  })
})

describe('redactSecrets on query parameters', () => {
  it('hides parameters named like secrets in any spelling, keeps the others as written', () => {
    const secretName = fc.constantFrom(
      'token',
      'access_token',
      'apiKey',
      'api-key',
      'key',
      'secret',
      'client_secret',
      'password',
      'sslpassword',
      'X-Amz-Signature',
      'signature',
      'sig',
      'TOKEN',
    )
    fc.assert(
      fc.property(
        fc.constantFrom('/hook', 'https://hooks.example.com/x', ''),
        secretName,
        fc.stringMatching(/^[A-Za-z0-9%._~-]{1,30}$/),
        otherParam,
        (base, name, value, [k, v]) => {
          fc.pre(!`${base}${k}${v}${name}`.includes(value))
          const out = redactSecrets(`${base}?${k}=${v}&${name}=${value}`)
          expect(out).toBe(`${base}?${k}=${v}&${name}=***`)
        },
      ),
    )
  })

  it('takes more names from the caller (compare.redact query.NAME)', () => {
    expect(redactSecrets('/todos?session=abc&page=2', { params: ['Session'] })).toBe('/todos?session=***&page=2')
    expect(redactSecrets('/todos?session=abc&page=2')).toBe('/todos?session=abc&page=2')
  })

  it('tells secret names from ordinary ones', () => {
    for (const name of [
      'token',
      'id_token',
      'apikey',
      'x-api-key',
      'privateKey',
      'auth',
      'oauth_signature',
      'pwd',
      'api%5Fkey',
    ])
      expect(isSecretParam(name), name).toBe(true)
    for (const name of ['keyword', 'page', 'stream', 'subject', 'schema', 'author', 'sort'])
      expect(isSecretParam(name), name).toBe(false)
  })
})

describe('redactSecrets keeps what is not a secret', () => {
  it.each([
    'sqlite:.tandem/tandem.db',
    'postgres://postgres@127.0.0.1:5432/test?schema=t_1',
    'redis://127.0.0.1:6379/0?stream=orders',
    'nats://127.0.0.1:4222/ORDERS?subject=orders.>',
    'https://registry.example.com:443/@scope/pkg',
    'http://127.0.0.1/users?email=a@example.com',
    'mysql://root@127.0.0.1:3306/test',
    'error: connect ECONNREFUSED 127.0.0.1:5432',
  ])('%s', (text) => {
    expect(redactSecrets(text)).toBe(text)
  })

  it('hides too much rather than too little when a port is followed by an @ later in the URL', () => {
    // `host:9001/users?email=a` could be a user and a password with an unencoded `/`.
    expect(redactSecrets('http://127.0.0.1:9001/users?email=a@example.com')).toBe('http://127.0.0.1:***@example.com')
  })

  it('masks the password of an empty user (redis://:pass@)', () => {
    expect(redactSecrets('redis://:hunter2@127.0.0.1:6379/0?stream=a')).toBe('redis://:***@127.0.0.1:6379/0?stream=a')
  })
})

describe('TandemError messages', () => {
  it('never carry a URL password or a secret parameter from their params, while the template stays whole', () => {
    const e = new TandemError('TANDEM_ERR_STORE_OPEN', {
      url: 'postgres://tandem:s3cr3t@db.internal:5432/tandem?password=also',
      detail: 'connect ECONNREFUSED 10.0.0.5:5432',
    })
    expect(e.message).not.toContain('s3cr3t')
    expect(e.message).not.toContain('also')
    expect(e.message).toContain('postgres://tandem:***@db.internal:5432/tandem')
    expect(e.message).toContain('ECONNREFUSED 10.0.0.5:5432')
    const u = new TandemError('TANDEM_ERR_EVENTS_URL', { url: 'amqp://guest:pw@h', detail: 'x' })
    expect(u.message).toContain('amqp://USER:PASS@HOST:5672/VHOST')
  })
})
