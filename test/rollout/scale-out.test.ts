// Must hold (SPEC 11): two real `tandem up` processes on one PostgreSQL store, every client request
// through the instance that does NOT hold the controller lease, the candidate failing 30 %: the lease
// holder judges the merged metrics and rolls back within two analysis intervals of the first conclusive
// window, and the failure report's evidence counts the other instance's requests.
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { request } from 'undici'
import { afterEach, expect, it } from 'vitest'
import { openStore } from '../../src/store/open.js'
import { system, tandemConfig, writeConfig } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { startService, trafficUntil } from '../support/loopback.js'
import { withPostgresSchema } from '../support/postgres.js'
import { temporaryDir } from '../support/temp-dir.js'
import { spawnUp, type UpProcess } from '../support/up.js'

const TOKEN = 'operator-token-0123456789'
const INTERVAL_MS = 1000

let cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

type Up = UpProcess

async function api<T>(up: Up, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await request(`${up.adminUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.body.text()
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`)
  return (path === '/metrics' ? text : JSON.parse(text)) as T
}

const TITLE =
  'rolls back from the merged metrics of two instances when all traffic goes through the one without the lease'

it(
  TITLE,
  async () => {
    const schema = await withPostgresSchema()
    cleanup.push(schema.drop)
    const legacy = await startService()
    const candidate = await startService({ failRate: 0.3 })
    cleanup.push(
      () => legacy.close(),
      () => candidate.close(),
    )
    const dir = temporaryDir('tandem-scale-out-')
    const configFile = writeConfig(
      dir,
      tandemConfig({
        store: schema.url,
        tokens: [{ name: 'ops', role: 'operator', token: TOKEN }],
        systems: [
          system('orders', {
            legacy: legacy.url,
            candidate: candidate.url,
            rollout: { steps: [{ weight: 50, pause: '1h' }, { weight: 100 }] },
            analysis: { interval: `${INTERVAL_MS}ms`, minSamples: 20 },
          }),
        ],
      }),
    )
    // Each instance in its own directory: the failure report shows up where the lease holder runs.
    const dirs = [join(dir, 'a'), join(dir, 'b')]
    for (const d of dirs) await mkdir(d)
    const ups = [await spawnUp(configFile, { cwd: dirs[0]! }), await spawnUp(configFile, { cwd: dirs[1]! })]
    cleanup.push(() => Promise.all(ups.map((up) => up.stop())))

    // Item 6: each /metrics is its own instance's, and says which.
    const INFO = /tandem_instance_info\{instance="([^"]+)"\} 1/
    const instanceOf = async (up: Up) => INFO.exec(await api<string>(up, 'GET', '/metrics'))?.[1]
    const ids = await Promise.all(ups.map(instanceOf))
    expect(ids.every((id) => id !== undefined)).toBe(true)
    expect(new Set(ids).size).toBe(2)

    await api(ups[0]!, 'POST', '/api/v1/systems/orders/actions/start', { force: true })
    // Both controllers tick every interval; the one without the lease says so.
    let follower = -1
    const found = await eventually(async () => {
      const reasonOf = async (up: Up) =>
        (await api<{ holdReason: string | null }>(up, 'GET', '/api/v1/systems/orders')).holdReason
      const reasons = await Promise.all(ups.map(reasonOf))
      follower = reasons.findIndex((r) => r === 'another instance holds the controller lease')
      return follower >= 0
    })
    expect(found).toBe(true)
    const through = ups[follower]!
    const holderDir = dirs[1 - follower]!

    const store = await openStore(schema.url)
    cleanup.push(() => store.close())
    const stage = async () =>
      (await store.db.selectFrom('system_state').select('stage').where('system', '=', 'orders').executeTakeFirst())
        ?.stage
    const sent = await trafficUntil(through.gatewayUrl, async () => (await stage()) === 'rolled-back', {
      prefixes: ['api'],
      maxRequests: 30_000,
    })
    expect(await stage()).toBe('rolled-back')
    expect(sent).toBeLessThan(30_000)

    // Within two analysis intervals of the first conclusive window: at most two verdicts from it to the rollback.
    const verdicts = await store.db
      .selectFrom('verdicts')
      .selectAll()
      .where('system', '=', 'orders')
      .orderBy('id')
      .execute()
    const rollback = await store.db
      .selectFrom('decisions')
      .selectAll()
      .where('system', '=', 'orders')
      .where('action', '=', 'rollback')
      .executeTakeFirstOrThrow()
    const conclusive = verdicts.findIndex((v) => v.verdict !== 'inconclusive')
    expect(conclusive).toBeGreaterThanOrEqual(0)
    const judged = verdicts.slice(conclusive).filter((v) => Number(v.at) <= Number(rollback.at))
    expect(judged.length).toBeGreaterThanOrEqual(1)
    expect(judged.length).toBeLessThanOrEqual(2)
    expect(judged.at(-1)!.verdict).toBe('fail')
    const first = judged[0]!
    // A window starts on a whole second: one interval plus less than a second.
    expect(Number(first.window_end) - Number(first.window_start)).toBeLessThan(INTERVAL_MS + 1000)

    // The failure report (written by the lease holder, whose own gateway served nothing) counts the
    // requests the other instance served in the failing window, as that instance stored them.
    const failures = join(holderDir, '.tandem', 'failures')
    const reported = async () => (await readdir(failures).catch(() => [])).some((f) => f.endsWith('.json'))
    expect(await eventually(reported)).toBe(true)
    const file = (await readdir(failures)).find((f) => f.endsWith('.json'))!
    type Evidence = { samples: { legacy: number; candidate: number }; window: { start: number; end: number } }
    const report = JSON.parse(await readFile(join(failures, file), 'utf8')) as { evidence: Evidence }
    const { samples, window } = report.evidence
    expect(samples.candidate).toBeGreaterThanOrEqual(20)
    const rows = await store.db
      .selectFrom('metric_seconds')
      .selectAll()
      .where('system', '=', 'orders')
      .where('second', '>=', Math.floor(window.start / 1000))
      .where('second', '<', Math.ceil(window.end / 1000))
      .execute()
    const count = (arm: string) => rows.filter((r) => r.arm === arm).reduce((n, r) => n + Number(r.requests), 0)
    expect(samples.legacy).toBe(count('legacy'))
    expect(samples.candidate).toBe(count('candidate'))
    expect(new Set(rows.filter((r) => Number(r.requests) > 0).map((r) => r.instance))).toEqual(new Set([ids[follower]]))
  },
  90_000,
)
