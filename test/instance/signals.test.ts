// `tandem up` as an operator runs it, in its own process: SIGHUP reloads tandem.yaml (a bad file is
// refused and the running config keeps serving), SIGTERM drains in-flight requests before exiting;
// and an upstream that does not answer in time gets a coded 504.
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listAudit } from '../../src/store/audit.js'
import { openStore } from '../../src/store/open.js'
import {
  invalidConfig,
  system,
  tandemConfig,
  writeConfig,
  type ConfigInput,
  type SystemInput,
} from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { buildInstance } from '../support/instance.js'
import { temporaryDir } from '../support/temp-dir.js'
import { spawnUp, type UpProcess } from '../support/up.js'
import { origin, type Origin } from '../support/loopback.js'

let upstream: Origin
let dir: string

beforeAll(async () => {
  upstream = await origin((req, res) => {
    // /slow/* answers after a pause, so a request is still in flight when the signal arrives.
    const delay = req.url!.startsWith('/slow/') ? 800 : 0
    setTimeout(() => res.end(`ok ${req.url}`), delay)
  })
  dir = temporaryDir('tandem-signals-')
})

afterAll(async () => {
  await upstream?.close()
})

/** One system `api` on `routes`; `colour` adds a key the schema refuses. */
function config(routes: string[], colour?: string): ConfigInput {
  const api = system('api', { legacy: upstream.url, routes: routes.map((path) => ({ path })) })
  return tandemConfig({ dir, systems: [colour === undefined ? api : invalidConfig<SystemInput>({ ...api, colour })] })
}

/** Start `tandem up --no-controller` on `dir`/`name`. */
function up(name: string, document: ConfigInput): Promise<UpProcess> {
  return spawnUp(writeConfig(dir, document, name), { args: ['--no-controller'] })
}

async function status(url: string): Promise<number> {
  const res = await request(url)
  await res.body.dump()
  return res.statusCode
}

describe('tandem up signals', () => {
  it('SIGHUP applies a valid tandem.yaml, refuses an invalid one and keeps serving', async () => {
    const t = await up('hup.yaml', config(['/alpha/**']))
    try {
      expect(await status(`${t.gatewayUrl}/alpha/1`)).toBe(200)
      expect(await status(`${t.gatewayUrl}/beta/1`)).toBe(404)

      writeConfig(dir, config(['/alpha/**', '/beta/**']), 'hup.yaml')
      t.child.kill('SIGHUP')
      await eventually(async () => expect(await status(`${t.gatewayUrl}/beta/1`)).toBe(200), { tries: 300, every: 100 })

      writeConfig(dir, config(['/alpha/**'], 'blue'), 'hup.yaml')
      t.child.kill('SIGHUP')
      await eventually(() => expect(t.stderr()).toContain('TANDEM_ERR_CONFIG_UNKNOWN_KEY'), { tries: 300, every: 100 })
      // The refused file changed nothing: both routes still serve and the process is alive.
      expect(await status(`${t.gatewayUrl}/beta/1`)).toBe(200)
      expect(await status(`${t.gatewayUrl}/alpha/1`)).toBe(200)
      expect(t.child.exitCode).toBeNull()
    } finally {
      await t.kill()
    }
  })

  it('audits SIGHUP reloads with actor signal:SIGHUP and their outcome, as API reloads are', async () => {
    const t = await up('hup-audit.yaml', config(['/alpha/**']))
    const store = await openStore(`sqlite:${join(dir, 'tandem.db')}`)
    const reloads = async () =>
      (await listAudit(store, { actor: 'signal:SIGHUP' })).filter((r) => r.action === 'config.reload')
    try {
      const before = (await reloads()).length
      writeConfig(dir, config(['/alpha/**', '/beta/**']), 'hup-audit.yaml')
      t.child.kill('SIGHUP')
      await eventually(async () => expect((await reloads()).length).toBe(before + 1), { tries: 300, every: 100 })
      expect((await reloads())[0]).toMatchObject({ actor: 'signal:SIGHUP', role: 'admin', target: null, result: 'ok' })

      writeConfig(dir, config(['/alpha/**'], 'blue'), 'hup-audit.yaml')
      t.child.kill('SIGHUP')
      await eventually(async () => expect((await reloads()).length).toBe(before + 2), { tries: 300, every: 100 })
      const [refused] = await reloads()
      expect(refused).toMatchObject({ actor: 'signal:SIGHUP', result: 'error' })
      expect(refused!.detail).toContain('TANDEM_ERR_CONFIG_INVALID')
    } finally {
      await store.close()
      await t.kill()
    }
  })

  it('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const t = await up('term.yaml', config(['/**']))
    const inFlight = request(`${t.gatewayUrl}/slow/1`).then(async (res) => ({
      status: res.statusCode,
      body: await res.body.text(),
    }))
    // Send the signal once the upstream has the request, so it is truly in flight.
    await eventually(() => expect(upstream.requests.some((r) => r.url === '/slow/1')).toBe(true), {
      tries: 1500,
      every: 20,
    })
    const stopped = t.stop()
    expect(await inFlight).toEqual({ status: 200, body: 'ok /slow/1' })
    expect(await stopped).toBe(0)
  })
})

describe('upstream timeout', () => {
  it('answers 504 with a coded JSON body when the upstream does not answer in gateway.upstreamTimeout', async () => {
    const silent = await origin(() => undefined) // accepts the request and never answers
    const t = await buildInstance(
      tandemConfig({ gateway: { upstreamTimeout: '300ms' }, systems: [system('api', { legacy: silent.url })] }),
    )
    try {
      const res = await request(`${t.gatewayUrl}/anything`)
      expect(res.statusCode).toBe(504)
      const body = (await res.body.json()) as { code: string; message: string }
      expect(body.code).toBe('TANDEM_ERR_UPSTREAM_TIMEOUT')
      expect(body.message).toContain('300ms')
    } finally {
      await t.close()
      await silent.close()
    }
  })
})
