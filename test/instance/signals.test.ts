// `tandem up` as an operator runs it, in its own process: SIGHUP reloads tandem.yaml (a bad file is
// refused and the running config keeps serving), SIGTERM drains in-flight requests before exiting;
// and an upstream that does not answer in time gets a coded 504.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { listAudit } from '../../src/store/audit.js'
import { openStore } from '../../src/store/open.js'
import { BIN } from '../support/cli.js'
import { origin, removeDir, startTandem, type Origin } from '../gateway/fixtures/harness.js'

let upstream: Origin
let dir: string

beforeAll(async () => {
  upstream = await origin((req, res) => {
    // /slow/* answers after a pause, so a request is still in flight when the signal arrives.
    const delay = req.url!.startsWith('/slow/') ? 800 : 0
    setTimeout(() => res.end(`ok ${req.url}`), delay)
  })
  dir = mkdtempSync(join(tmpdir(), 'tandem-signals-'))
})

afterAll(async () => {
  await upstream?.close()
  if (dir) removeDir(dir)
})

function config(routes: string[], extra = ''): string {
  return `version: 1
gateway: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
store: sqlite:${join(dir, 'tandem.db')}
systems:
  - name: api
    legacy: { url: ${upstream.url} }
    candidate: { url: ${upstream.url} }
    routes: [${routes.map((r) => `{ path: ${r} }`).join(', ')}]
${extra}`
}

/** Start `tandem up --json` and read the addresses it prints. */
async function up(configFile: string): Promise<{ child: ChildProcess; gateway: string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, 'up', '--json', '--no-controller', '-c', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
  const summary = await vi.waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`tandem up exited ${child.exitCode}: ${stderr}`)
      return JSON.parse(stdout) as { gateway: string }
    },
    { timeout: 60_000, interval: 100 },
  )
  return { child, gateway: summary.gateway, stderr: () => stderr }
}

async function status(url: string): Promise<number> {
  const res = await request(url)
  await res.body.dump()
  return res.statusCode
}

describe('tandem up signals', () => {
  it('SIGHUP applies a valid tandem.yaml, refuses an invalid one and keeps serving', async () => {
    const file = join(dir, 'hup.yaml')
    writeFileSync(file, config(['/alpha/**']))
    const t = await up(file)
    try {
      expect(await status(`${t.gateway}/alpha/1`)).toBe(200)
      expect(await status(`${t.gateway}/beta/1`)).toBe(404)

      writeFileSync(file, config(['/alpha/**', '/beta/**']))
      t.child.kill('SIGHUP')
      await vi.waitFor(async () => expect(await status(`${t.gateway}/beta/1`)).toBe(200), { timeout: 30_000, interval: 100 })

      writeFileSync(file, config(['/alpha/**'], '    colour: blue\n'))
      t.child.kill('SIGHUP')
      await vi.waitFor(() => expect(t.stderr()).toContain('TANDEM_ERR_CONFIG_UNKNOWN_KEY'), { timeout: 30_000, interval: 100 })
      // The refused file changed nothing: both routes still serve and the process is alive.
      expect(await status(`${t.gateway}/beta/1`)).toBe(200)
      expect(await status(`${t.gateway}/alpha/1`)).toBe(200)
      expect(t.child.exitCode).toBeNull()
    } finally {
      t.child.kill('SIGKILL')
      await once(t.child, 'exit').catch(() => undefined)
    }
  })

  it('audits SIGHUP reloads with actor signal:SIGHUP and their outcome, as API reloads are', async () => {
    const file = join(dir, 'hup-audit.yaml')
    writeFileSync(file, config(['/alpha/**']))
    const t = await up(file)
    const store = await openStore(`sqlite:${join(dir, 'tandem.db')}`)
    const reloads = async () => (await listAudit(store, { actor: 'signal:SIGHUP' })).filter((r) => r.action === 'config.reload')
    try {
      const before = (await reloads()).length
      writeFileSync(file, config(['/alpha/**', '/beta/**']))
      t.child.kill('SIGHUP')
      await vi.waitFor(async () => expect((await reloads()).length).toBe(before + 1), { timeout: 30_000, interval: 100 })
      expect((await reloads())[0]).toMatchObject({ actor: 'signal:SIGHUP', role: 'admin', target: null, result: 'ok' })

      writeFileSync(file, config(['/alpha/**'], '    colour: blue\n'))
      t.child.kill('SIGHUP')
      await vi.waitFor(async () => expect((await reloads()).length).toBe(before + 2), { timeout: 30_000, interval: 100 })
      const [refused] = await reloads()
      expect(refused).toMatchObject({ actor: 'signal:SIGHUP', result: 'error' })
      expect(refused!.detail).toContain('TANDEM_ERR_CONFIG_INVALID')
    } finally {
      await store.close()
      t.child.kill('SIGKILL')
      await once(t.child, 'exit').catch(() => undefined)
    }
  })

  it('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const file = join(dir, 'term.yaml')
    writeFileSync(file, config(['/**']))
    const t = await up(file)
    const inFlight = request(`${t.gateway}/slow/1`).then(async (res) => ({ status: res.statusCode, body: await res.body.text() }))
    // Send the signal once the upstream has the request, so it is truly in flight.
    await vi.waitFor(() => expect(upstream.requests.some((r) => r.url === '/slow/1')).toBe(true), { timeout: 30_000, interval: 20 })
    const exited = once(t.child, 'exit')
    t.child.kill('SIGTERM')
    expect(await inFlight).toEqual({ status: 200, body: 'ok /slow/1' })
    const [code] = (await exited) as [number]
    expect(code).toBe(0)
  })
})

describe('upstream timeout', () => {
  it('answers 504 with a coded JSON body when the upstream does not answer in gateway.upstreamTimeout', async () => {
    const silent = await origin(() => undefined) // accepts the request and never answers
    const t = await startTandem(`version: 1
gateway: { upstreamTimeout: 300ms }
systems:
  - name: api
    legacy: { url: ${silent.url} }
    candidate: { url: ${silent.url} }
    routes: [{ path: /** }]
`)
    try {
      const res = await request(`${t.instance.gatewayUrl}/anything`)
      expect(res.statusCode).toBe(504)
      const body = (await res.body.json()) as { code: string; message: string }
      expect(body.code).toBe('TANDEM_ERR_UPSTREAM_TIMEOUT')
      expect(body.message).toContain('300ms')
    } finally {
      await t.close()
      removeDir(t.dir)
      await silent.close()
    }
  })
})
