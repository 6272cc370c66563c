// SPEC 10: no error, log line, report, failure report, status output or stored file prints a password or
// token from a URL or the config. Every verb that opens a URL is run through bin/tandem.js against the
// real services, with passwords and tokens in the URLs and the config; each secret must be absent from
// stdout, stderr, JSON output, reports and checkpoints, while the error still names the host and the
// cause.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeStream, orderIds, publishOrders, type TestStream } from '../events/streams.js'
import { tandem, type CliRun } from '../support/cli.js'
import { system, tandemConfig, writeConfig, type ConfigOptions } from '../support/config.js'
import { withPostgresSchema } from '../support/postgres.js'
import { services, uniqueName } from '../support/services.js'
import { spawnUp, type UpProcess } from '../support/up.js'

/** `url` with `password` (and optionally `user`) in its userinfo. */
function withPassword(url: string, password: string, user?: string): string {
  const u = new URL(url)
  if (user !== undefined) u.username = user
  u.password = password
  return u.toString()
}

function expectNoSecret(text: string, secrets: readonly string[]): void {
  for (const s of secrets) expect(text, `"${s}" was printed`).not.toContain(s)
}

const all = (r: CliRun): string => `${r.stdout}\n${r.stderr}`

/** The coded error of a `--json` run (printed on stdout) or of a plain run (on stderr). */
function errorOf(r: CliRun): { code: string; message: string } {
  if (r.stdout.trimStart().startsWith('{'))
    return (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error
  const m = /error (TANDEM_ERR_\w+): (.*)/.exec(r.stderr)
  expect(m, r.stderr).not.toBeNull()
  return { code: m![1]!, message: m![2]! }
}

const dirs: string[] = []
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tandem-secrets-'))
  dirs.push(d)
  return d
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

/** `dir`/tandem.yaml with `store` and one system `api` nothing listens for, plus `more`. */
const writeApiConfig = (dir: string, store: string, more: ConfigOptions = {}): string =>
  writeConfig(dir, tandemConfig({ store, systems: [system('api')], ...more }))

describe('store URLs with a password', { timeout: 120_000 }, () => {
  const STORE_PW = 'StorePw-7f3a91'

  it('an unreachable PostgreSQL store: every verb that opens it names host and cause, never the password', async () => {
    const dir = await tempDir()
    const config = writeApiConfig(dir, `postgres://tandem:${STORE_PW}@127.0.0.1:1/tandem`)
    const verbs = [['up'], ['report', '--format', 'json'], ['diffs', 'api'], ['check', 'api', '--json']]
    for (const verb of verbs) {
      const r = await tandem([...verb, '-c', config])
      expectNoSecret(all(r), [STORE_PW])
      expect(r.code, verb.join(' ')).toBe(2)
      const error = errorOf(r)
      expect(error.code, verb.join(' ')).toBe('TANDEM_ERR_STORE_OPEN')
      expect(error.message).toContain('postgres://tandem:***@127.0.0.1:1/tandem')
      expect(error.message).toContain('ECONNREFUSED')
    }
  })

  it('an unsupported store URL is refused without its password', async () => {
    const dir = await tempDir()
    const config = writeApiConfig(dir, `mysql://root:${STORE_PW}@127.0.0.1:3306/test`)
    const r = await tandem(['report', '-c', config, '--format', 'json'])
    expectNoSecret(all(r), [STORE_PW])
    expect(errorOf(r)).toMatchObject({ code: 'TANDEM_ERR_STORE_URL' })
    expect(errorOf(r).message).toContain('mysql://root:***@127.0.0.1:3306/test')
  })

  it('a reachable PostgreSQL store: reports in every format show the store without the password', async () => {
    const schema = await withPostgresSchema()
    try {
      const dir = await tempDir()
      const store = withPassword(schema.url, STORE_PW)
      const config = writeApiConfig(dir, store)
      const json = await tandem(['report', '-c', config, '--format', 'json'])
      expect(json.code, json.stderr).toBe(0)
      expectNoSecret(all(json), [STORE_PW])
      expect((JSON.parse(json.stdout) as { store: string }).store).toBe(store.replace(`:${STORE_PW}@`, ':***@'))
      for (const format of ['md', 'html']) {
        const r = await tandem(['report', '-c', config, '--format', format])
        expect(r.code, r.stderr).toBe(0)
        expectNoSecret(all(r), [STORE_PW])
      }
    } finally {
      await schema.drop()
    }
  })
})

describe('tandem data diff with passwords in the database URLs', { timeout: 120_000 }, () => {
  const PG_PW = 'PgPw-2c81d5'
  const MY_PW = 'MyPw-9e04b7'
  const table = uniqueName('secret_rows').toLowerCase()
  const pgUrl = withPassword(services.postgres, PG_PW)

  beforeAll(async () => {
    const c = new pg.Client({ connectionString: services.postgres })
    await c.connect()
    await c.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text)`)
    await c.query(`INSERT INTO ${table} SELECT g, 'row ' || g FROM generate_series(1, 20) g`)
    await c.end()
  })
  afterAll(async () => {
    const c = new pg.Client({ connectionString: services.postgres })
    await c.connect()
    await c.query(`DROP TABLE IF EXISTS ${table}`)
    await c.end()
  })

  it.each([
    [
      'an unreachable PostgreSQL',
      withPassword('postgres://postgres@127.0.0.1:1/test', PG_PW),
      'postgres://postgres:***@127.0.0.1:1/test',
      'ECONNREFUSED',
    ],
    [
      'an unreachable MariaDB',
      withPassword('mysql://root@127.0.0.1:1/test', MY_PW),
      'mysql://root:***@127.0.0.1:1/test',
      'ECONNREFUSED',
    ],
    [
      'MariaDB refusing a wrong password',
      withPassword(services.mariadb, MY_PW),
      withPassword(services.mariadb, '***'),
      'Access denied',
    ],
  ])('%s: TANDEM_ERR_DATA_CONNECT names the host and the cause', async (_name, to, shown, cause) => {
    for (const json of [[], ['--json']]) {
      const r = await tandem(['data', 'diff', '--from', pgUrl, '--to', to, '--table', table, ...json])
      expectNoSecret(all(r), [PG_PW, MY_PW])
      expect(r.code).toBe(2)
      const error = errorOf(r)
      expect(error.code).toBe('TANDEM_ERR_DATA_CONNECT')
      expect(error.message).toContain(shown)
      expect(error.message).toContain(cause)
    }
  })

  it('a successful diff prints no password in its summary, rows or progress', async () => {
    const dir = await tempDir()
    const out = join(dir, 'rows.jsonl')
    const json = await tandem([
      'data',
      'diff',
      '--from',
      pgUrl,
      '--to',
      pgUrl,
      '--table',
      table,
      '--json',
      '--output',
      out,
    ])
    expect(json.code, json.stderr).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ table, rowsFrom: 20, rowsTo: 20, changed: 0 })
    expectNoSecret(all(json) + (await readFile(out, 'utf8')), [PG_PW])
    const plain = await tandem(['data', 'diff', '--from', pgUrl, '--to', pgUrl, '--table', table])
    expect(plain.code, plain.stderr).toBe(0)
    expectNoSecret(all(plain), [PG_PW])
  })
})

describe('tandem events verify and bridge with credentials in the broker URLs', { timeout: 120_000 }, () => {
  const AMQP_PW = 'AmqpPw-51c0e8'
  const REDIS_PW = 'RedisPw-a7d2f4'
  const NATS_PW = 'NatsPw-3b9e61'
  const secrets = [AMQP_PW, REDIS_PW, NATS_PW]
  const streams: TestStream[] = []
  afterAll(async () => {
    for (const s of streams) await s.drop()
  })

  const cases: Array<[string, string, string, string]> = [
    [
      'RabbitMQ refusing a wrong password',
      `amqp://guest:${AMQP_PW}@127.0.0.1:5672/%2f?stream=secrets`,
      'amqp://guest:***@127.0.0.1:5672',
      'ACCESS_REFUSED',
    ],
    [
      'an unreachable RabbitMQ',
      `amqp://guest:${AMQP_PW}@127.0.0.1:1/%2f?stream=secrets`,
      'amqp://guest:***@127.0.0.1:1',
      'ECONNREFUSED',
    ],
    [
      'an unreachable Redis',
      `redis://:${REDIS_PW}@127.0.0.1:1/0?stream=secrets`,
      'redis://:***@127.0.0.1:1',
      'TANDEM_ERR_EVENTS_CONNECT',
    ],
    [
      'an unreachable NATS',
      `nats://user:${NATS_PW}@127.0.0.1:1/SECRETS?subject=s.x`,
      'nats://user:***@127.0.0.1:1',
      'TANDEM_ERR_EVENTS_CONNECT',
    ],
    [
      'a NATS stream that does not exist',
      `nats://user:${NATS_PW}@127.0.0.1:4222/NOSUCHSTREAM${process.pid}?subject=s.x`,
      'nats://user:***@127.0.0.1:4222',
      'does not exist',
    ],
  ]

  it.each(cases)('%s: verify and bridge name the broker and the cause', async (_name, url, shown, cause) => {
    const other = `redis://:${REDIS_PW}@127.0.0.1:6379/0?stream=${uniqueName('other')}`
    for (const args of [
      ['events', 'verify', '--from', url, '--to', other, '--id', 'message-id'],
      ['events', 'bridge', '--from', url, '--to', other, '--until-idle', '--json'],
    ]) {
      const r = await tandem(args)
      expectNoSecret(all(r), secrets)
      expect(r.code, args.join(' ')).toBe(2)
      const error = errorOf(r)
      expect(`${error.code} ${error.message}`).toContain(shown)
      expect(`${error.code} ${error.message}`).toContain(cause)
    }
  })

  it('a bridge and a verify that succeed keep the passwords out of their output and the checkpoint', async () => {
    const old = await makeStream('nats')
    const neu = await makeStream('redis')
    streams.push(old, neu)
    await publishOrders(old.stream, orderIds(5))
    const from = withPassword(old.url, NATS_PW, 'user')
    const to = withPassword(neu.url, REDIS_PW)
    const checkpoint = join(await tempDir(), 'bridge.json')
    const bridge = (...extra: string[]) =>
      tandem(['events', 'bridge', '--from', from, '--to', to, '--until-idle', '--checkpoint', checkpoint, ...extra])
    const copied = await bridge()
    expect(copied.code, copied.stderr).toBe(0)
    expect(copied.stdout).toContain('copied 5 message(s)')
    const saved = await readFile(checkpoint, 'utf8')
    expect(JSON.parse(saved)).toMatchObject({ from: from.replace(`:${NATS_PW}@`, ':***@'), copied: 5 })
    const again = await bridge('--json')
    expect(again.code, again.stderr).toBe(0)
    const verified = await tandem(['events', 'verify', '--from', from, '--to', to, '--id', 'message-id', '--json'])
    expect(verified.code, verified.stdout).toBe(0)
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true })
    expectNoSecret([copied, again, verified].map(all).join('\n') + saved, secrets)
  })
})

describe('tandem up with tokens in the config, hooks and notifications', { timeout: 120_000 }, () => {
  const ADMIN_TOKEN = 'AdminTok-0d6c2e8a4b'
  const STORE_PW = 'UpStorePw-84e1c7'
  const HOOK_PATH = 'HookPathSecret-5a7f'
  const HOOK_QUERY = 'HookQuerySecret-c31b'
  const NOTIFY_PW = 'NotifyPw-e62d90'
  const NOTIFY_TOKEN = 'NotifyTok-19af4c'
  const secrets = [ADMIN_TOKEN, STORE_PW, HOOK_PATH, HOOK_QUERY, NOTIFY_PW, NOTIFY_TOKEN]

  let dir: string
  let config: string
  let schema: Awaited<ReturnType<typeof withPostgresSchema>>
  let app: Server
  let hooks: Server
  let hookOrigin: string
  let up: UpProcess
  let admin: string

  beforeAll(async () => {
    dir = await tempDir()
    schema = await withPostgresSchema()
    app = createServer((_req, res) => res.end('{"ok":true}'))
    hooks = createServer((req, res) => req.resume().on('end', () => res.writeHead(503).end('not now')))
    await Promise.all([app, hooks].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))))
    const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`
    hookOrigin = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`
    const hook = (team: string) => ({ webhook: `${hookOrigin}/services/${team}/${HOOK_PATH}?token=${HOOK_QUERY}` })
    config = writeApiConfig(dir, withPassword(schema.url, STORE_PW), {
      tokens: [{ name: 'ops', role: 'admin', token: ADMIN_TOKEN }],
      notifications: [
        {
          webhook: `http://hooks:${NOTIFY_PW}@127.0.0.1:1/notify?token=${NOTIFY_TOKEN}`,
          on: ['confirm-rollout', 'event', 'rollback'],
        },
      ],
      systems: [
        system('api', {
          legacy: appUrl,
          rollout: { steps: [{ weight: 10, pause: '1h' }, { weight: 100 }] },
          hooks: { confirmRollout: hook('T0/B0'), rollback: hook('T0/B0') },
        }),
        system('web', { legacy: appUrl, routes: [{ path: '/web/**' }], hooks: { rollback: hook('T1/B1') } }),
      ],
    })
    up = await spawnUp(config)
    admin = up.adminUrl
  })
  afterAll(async () => {
    await up?.stop()
    for (const s of [app, hooks]) s?.close()
    await schema?.drop()
  })

  const cli = (args: readonly string[]): Promise<CliRun> =>
    tandem([...args, '--admin', admin, '--token', ADMIN_TOKEN], dir)

  it('status, refused hooks, rollbacks, failure reports, the program report and the logs hold no secret', async () => {
    const status = await cli(['status', '--json'])
    expect(status.code, status.stderr).toBe(0)

    // The confirm-rollout webhook answers 503: the error says where it went and what it answered.
    const refused = await cli(['start', 'api', '--json'])
    expect(refused.code).toBe(1)
    expect(errorOf(refused)).toMatchObject({ code: 'TANDEM_ERR_HOOK_REFUSED' })
    expect(errorOf(refused).message).toContain(`POST ${hookOrigin}/… answered 503: not now`)
    const plain = await cli(['start', 'api'])
    expect(errorOf(plain).message).toContain(`POST ${hookOrigin}/… answered 503`)

    // A rollback fires a failing rollback hook and a notification to an unreachable webhook, and writes
    // a failure report.
    expect((await cli(['start', 'web', '--force'])).code).toBe(0)
    const rolledBack = await cli(['rollback', 'web', '--reason', 'secrets test', '--json'])
    expect(rolledBack.code, rolledBack.stderr).toBe(0)
    const afterwards = [
      await cli(['status', 'web', '--json']),
      await cli(['status']),
      await tandem(['report', '-c', config, '--format', 'json'], dir),
      await tandem(['report', '-c', config], dir),
    ]
    for (const r of afterwards) expect(r.code, r.stderr).toBe(0)
    const failures = join(dir, '.tandem', 'failures')
    const reports = await readdir(failures)
    expect(reports.length).toBeGreaterThanOrEqual(1)
    const reportText = (await Promise.all(reports.map((f) => readFile(join(failures, f), 'utf8')))).join('\n')

    await up.stop()
    expectNoSecret(
      [status, refused, plain, rolledBack, ...afterwards].map(all).join('\n') + reportText + up.stdout() + up.stderr(),
      secrets,
    )
  })
})
