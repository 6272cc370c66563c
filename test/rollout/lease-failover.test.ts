// Must hold (SPEC 11): with two `tandem up` instances on one PostgreSQL store under traffic, `kill -9` or
// `kill -STOP` of the controller lease's holder hands the lease to the other instance, which goes on
// deciding; the stopped holder, woken up, has its decision refused by the lease's fencing token; the
// decision log stays unique and gap-free, and no decision of an old lease term follows a newer one.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { request } from 'undici'
import { afterEach, expect, it, vi } from 'vitest'
import { readLease } from '../../src/store/lease.js'
import { openStore, type Store } from '../../src/store/open.js'
import { getState, listDecisions } from '../../src/store/system-state.js'
import { withPostgresSchema } from '../support/postgres.js'
import { startService } from './harness.js'

const BIN = resolve('bin/tandem.js')

interface Up {
  readonly child: ChildProcess
  readonly gateway: string
  readonly admin: string
  log(): string
}

async function up(dir: string): Promise<Up> {
  const args = [BIN, 'up', '-c', join(dir, 'tandem.yaml'), '--json']
  const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let log = ''
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()))
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()))
  const summary = await new Promise<{ gateway: string; admin: string }>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      try {
        resolve(JSON.parse(out))
      } catch {
        // not complete yet
      }
    })
    child.on('exit', (code) => reject(new Error(`tandem up exited ${code}: ${log}`)))
  })
  return { child, gateway: summary.gateway, admin: summary.admin, log: () => log }
}

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, TANDEM_TOKEN: '' }
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'ignore'], env })
    let stdout = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.on('close', (code) => resolve({ code: code ?? -1, stdout }))
  })
}

/** Requests round-robin over the live gateways until stopped; a frozen gateway is taken out first. */
function traffic(live: Set<string>): { stop(): Promise<void> } {
  let stopped = false
  const worker = async (w: number) => {
    for (let i = 0; !stopped; i++) {
      const urls = [...live]
      const url = urls[i % Math.max(1, urls.length)]
      if (url === undefined) {
        await new Promise((r) => setTimeout(r, 50))
        continue
      }
      try {
        const headers = { 'x-user-id': `u${w}-${i % 97}` }
        const res = await request(`${url}/items/${i % 50}`, { headers, headersTimeout: 2000, bodyTimeout: 2000 })
        await res.body.dump()
      } catch {
        // a gateway killed mid-request
      }
    }
  }
  const running = Promise.all([worker(0), worker(1)])
  return {
    async stop() {
      stopped = true
      await running
    },
  }
}

const pidOf = (holder: string): number => Number(holder.split('/')[1])

let cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

const name = 'hands the lease over from a killed and from a frozen holder, and fences the frozen one'
it(name, { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-lease-'))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  const schema = await withPostgresSchema()
  cleanup.push(schema.drop)
  const legacy = await startService()
  const candidate = await startService()
  cleanup.push(() => legacy.close(), () => candidate.close())
  // confirm-promotion answers 503 (hold) until armed; armed, it keeps the next call waiting.
  let armed = false
  let held: ServerResponse | undefined
  const hook = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (armed && held === undefined) held = res
      else res.writeHead(503).end('not yet')
    })
  })
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r))
  cleanup.push(() => new Promise((r) => {
    held?.destroy()
    hook.closeAllConnections()
    hook.close(r)
  }))
  await writeFile(join(dir, 'tandem.yaml'), `version: 1
gateway: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
store: ${JSON.stringify(schema.url)}
systems:
  - name: orders
    legacy: { url: ${legacy.url} }
    candidate: { url: ${candidate.url} }
    routes: [{ path: /** }]
    rollout: { steps: [{weight: 10, pause: 1s}, {weight: 20, pause: 1s}, {weight: 100}] }
    analysis: { interval: 1s, minSamples: 5, promote: { latencyChange: "off" }, rollback: { latencyP95: "off" } }
    hooks:
      confirmPromotion: { webhook: http://127.0.0.1:${(hook.address() as AddressInfo).port}/confirm, timeout: 5m }
`)
  const store: Store = await openStore(schema.url)
  cleanup.push(() => store.close())
  const procs: Up[] = []
  const start = async () => {
    const p = await up(dir)
    procs.push(p)
    cleanup.push(async () => {
      p.child.kill('SIGCONT')
      p.child.kill('SIGKILL')
    })
    return p
  }
  const [a, b] = await Promise.all([start(), start()])
  const live = new Set([a!.gateway, b!.gateway])
  const load = traffic(live)
  cleanup.push(() => load.stop())
  const started = await cli(['start', 'orders', '--force', '--admin', a!.admin, '--json'], dir)
  expect(started.code, started.stdout).toBe(0)

  const lease = async () => (await readLease(store)) ?? { holder: '/0/', token: 0, expiresAt: 0 }
  const decidedUnder = async (token: number) =>
    (await listDecisions(store, 'orders')).some((d) => d.leaseToken === token)
  const poll = { timeout: 60_000, interval: 100 }

  // The first holder decides under its term.
  const first = await vi.waitFor(async () => {
    const l = await lease()
    if (!(await decidedUnder(l.token))) throw new Error('no decision of the holder yet')
    return l
  }, poll)
  const killed = procs.find((p) => p.child.pid === pidOf(first.holder))!
  const survivor = procs.find((p) => p !== killed)!
  live.delete(killed.gateway)
  killed.child.kill('SIGKILL')

  // kill -9: the other instance takes the lease over with the next token, and decides under it.
  const second = await vi.waitFor(async () => {
    const l = await lease()
    if (pidOf(l.holder) !== survivor.child.pid || l.token <= first.token) throw new Error(`lease still ${l.holder}`)
    if (!(await decidedUnder(l.token))) throw new Error('no decision of the new holder yet')
    return l
  }, poll)

  // Two instances again; the holder is kept waiting inside a decision (the confirm-promotion hook).
  const standby = await start()
  live.add(standby.gateway)
  armed = true
  await vi.waitFor(() => {
    if (held === undefined) throw new Error('the holder has not asked the hook yet')
  }, poll)
  expect(pidOf((await lease()).holder)).toBe(survivor.child.pid)

  // kill -STOP: the standby takes over once the frozen holder's term runs out, and decides.
  live.delete(survivor.gateway)
  survivor.child.kill('SIGSTOP')
  const third = await vi.waitFor(async () => {
    const l = await lease()
    if (pidOf(l.holder) !== standby.child.pid || l.token <= second.token) throw new Error(`lease still ${l.holder}`)
    if (!(await decidedUnder(l.token))) throw new Error('no decision of the new holder yet')
    return l
  }, poll)

  // kill -CONT, and the hook accepts: the woken holder goes on to promote, and the fence refuses it.
  survivor.child.kill('SIGCONT')
  held!.writeHead(200).end('ok')
  await vi.waitFor(() => {
    if (!survivor.log().includes('TANDEM_ERR_LEASE_LOST')) throw new Error('no refusal logged yet')
  }, poll)
  // It notices: its status says another instance holds the lease.
  await vi.waitFor(async () => {
    const status = JSON.parse((await cli(['status', 'orders', '--admin', survivor.admin, '--json'], dir)).stdout)
    expect(status.holdReason).toBe('another instance holds the controller lease')
  }, poll)

  await load.stop()
  expect(await getState(store, 'orders')).toMatchObject({ stage: 'canary' })
  const decisions = await listDecisions(store, 'orders')
  expect(decisions.map((d) => d.seq)).toEqual(decisions.map((_, i) => i + 1))
  expect(decisions.some((d) => d.action === 'promote')).toBe(false)
  // Controller decisions follow the lease terms in order: none of an old term after a newer one.
  const terms = decisions.filter((d) => d.leaseToken !== null).map((d) => d.leaseToken!)
  expect(terms).toEqual([...terms].sort((x, y) => x - y))
  expect(terms).toEqual(expect.arrayContaining([first.token, second.token, third.token]))
  const takenOver = decisions.find((d) => d.leaseToken === third.token)!.seq
  expect(decisions.filter((d) => d.leaseToken === second.token && d.seq > takenOver)).toEqual([])
})
