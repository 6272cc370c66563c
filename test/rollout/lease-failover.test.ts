// Must hold (SPEC 11): with two `tandem up` instances on one PostgreSQL store under traffic, `kill -9` or
// `kill -STOP` of the controller lease's holder hands the lease to the other instance, which goes on
// deciding; the stopped holder, woken up, has its decision refused by the lease's fencing token; the
// decision log stays unique and gap-free, and no decision of an old lease term follows a newer one.
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { afterEach, expect, it } from 'vitest'
import { readLease } from '../../src/store/lease.js'
import { openStore, type Store } from '../../src/store/open.js'
import { getState, listDecisions } from '../../src/store/system-state.js'
import { tandem } from '../support/cli.js'
import { system, tandemConfig, writeConfig } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { startService } from '../support/loopback.js'
import { withPostgresSchema } from '../support/postgres.js'
import { temporaryDir } from '../support/temp-dir.js'
import { spawnUp, type UpProcess } from '../support/up.js'

/** The CLI without a token from the environment. */
const cli = (args: string[], cwd: string) => tandem(args, cwd, { TANDEM_TOKEN: '' })

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
  const dir = temporaryDir('tandem-lease-')
  const schema = await withPostgresSchema()
  cleanup.push(schema.drop)
  const legacy = await startService()
  const candidate = await startService()
  cleanup.push(
    () => legacy.close(),
    () => candidate.close(),
  )
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
  cleanup.push(
    () =>
      new Promise((r) => {
        held?.destroy()
        hook.closeAllConnections()
        hook.close(r)
      }),
  )
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/confirm`
  const configFile = writeConfig(
    dir,
    tandemConfig({
      store: schema.url,
      systems: [
        system('orders', {
          legacy: legacy.url,
          candidate: candidate.url,
          rollout: { steps: [{ weight: 10, pause: '1s' }, { weight: 20, pause: '1s' }, { weight: 100 }] },
          analysis: {
            interval: '1s',
            minSamples: 5,
            promote: { latencyChange: 'off' },
            rollback: { latencyP95: 'off' },
          },
          hooks: { confirmPromotion: { webhook: hookUrl, timeout: '5m' } },
        }),
      ],
    }),
  )
  const store: Store = await openStore(schema.url)
  cleanup.push(() => store.close())
  const procs: UpProcess[] = []
  const start = async () => {
    const p = await spawnUp(configFile)
    procs.push(p)
    cleanup.push(async () => {
      p.child.kill('SIGCONT')
      p.child.kill('SIGKILL')
    })
    return p
  }
  const [a, b] = await Promise.all([start(), start()])
  const live = new Set([a!.gatewayUrl, b!.gatewayUrl])
  const load = traffic(live)
  cleanup.push(() => load.stop())
  const started = await cli(['start', 'orders', '--force', '--admin', a!.adminUrl, '--json'], dir)
  expect(started.code, started.stdout).toBe(0)

  const lease = async () => (await readLease(store)) ?? { holder: '/0/', token: 0, expiresAt: 0 }
  const decidedUnder = async (token: number) =>
    (await listDecisions(store, 'orders')).some((d) => d.leaseToken === token)
  const poll = { tries: 600, every: 100 }

  // The first holder decides under its term.
  const first = await eventually(async () => {
    const l = await lease()
    if (!(await decidedUnder(l.token))) throw new Error('no decision of the holder yet')
    return l
  }, poll)
  const killed = procs.find((p) => p.child.pid === pidOf(first.holder))!
  const survivor = procs.find((p) => p !== killed)!
  live.delete(killed.gatewayUrl)
  killed.child.kill('SIGKILL')

  // kill -9: the other instance takes the lease over with the next token, and decides under it.
  const second = await eventually(async () => {
    const l = await lease()
    if (pidOf(l.holder) !== survivor.child.pid || l.token <= first.token) throw new Error(`lease still ${l.holder}`)
    if (!(await decidedUnder(l.token))) throw new Error('no decision of the new holder yet')
    return l
  }, poll)

  // Two instances again; the holder is kept waiting inside a decision (the confirm-promotion hook).
  const standby = await start()
  live.add(standby.gatewayUrl)
  armed = true
  await eventually(() => {
    if (held === undefined) throw new Error('the holder has not asked the hook yet')
  }, poll)
  expect(pidOf((await lease()).holder)).toBe(survivor.child.pid)

  // kill -STOP: the standby takes over once the frozen holder's term runs out, and decides.
  live.delete(survivor.gatewayUrl)
  survivor.child.kill('SIGSTOP')
  const third = await eventually(async () => {
    const l = await lease()
    if (pidOf(l.holder) !== standby.child.pid || l.token <= second.token) throw new Error(`lease still ${l.holder}`)
    if (!(await decidedUnder(l.token))) throw new Error('no decision of the new holder yet')
    return l
  }, poll)

  // kill -CONT, and the hook accepts: the woken holder goes on to promote, and the fence refuses it.
  survivor.child.kill('SIGCONT')
  held!.writeHead(200).end('ok')
  await eventually(() => {
    if (!(survivor.stdout() + survivor.stderr()).includes('TANDEM_ERR_LEASE_LOST'))
      throw new Error('no refusal logged yet')
  }, poll)
  // It notices: its status says another instance holds the lease.
  await eventually(async () => {
    const status = JSON.parse((await cli(['status', 'orders', '--admin', survivor.adminUrl, '--json'], dir)).stdout)
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
