// End-to-end harness for rollout tests: two real loopback services (legacy and candidate) whose
// behaviour a test changes at run time, and the real gateway, metrics, comparison engine, store and
// controller built by createInstance, as `tandem up` builds them.
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { request } from 'undici'
import { parseConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import type { RoutingTable } from '../../src/domain/routing-table.js'
import { createInstance } from '../../src/instance/create-instance.js'
import type { RolloutController } from '../../src/rollout/controller.js'
import type { Store } from '../../src/store/open.js'
import { listDecisions } from '../../src/store/system-state.js'

export interface Behaviour {
  /** Fraction of non-health requests answered 500, spread evenly (deterministic). */
  failRate: number
  delayMs: number
  /** Health endpoint status. */
  health: number
}

export interface Service {
  readonly url: string
  readonly behaviour: Behaviour
  readonly served: () => number
  close(): Promise<void>
}

export async function startService(initial: Partial<Behaviour> = {}): Promise<Service> {
  const behaviour: Behaviour = { failRate: 0, delayMs: 0, health: 200, ...initial }
  let n = 0
  const server: Server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(behaviour.health, { 'content-type': 'application/json' }).end('{"ok":true}')
      return
    }
    n++
    // Fail exactly failRate of requests: request i fails when floor(i * rate) advances.
    const fail = Math.floor(n * behaviour.failRate) > Math.floor((n - 1) * behaviour.failRate)
    const answer = () => {
      if (fail) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}')
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, items: [1, 2, 3] }))
    }
    if (behaviour.delayMs > 0) setTimeout(answer, behaviour.delayMs)
    else answer()
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    behaviour,
    served: () => n,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

export interface Harness {
  readonly config: Config
  readonly store: Store
  readonly routing: RoutingTable
  readonly controller: RolloutController
  readonly gatewayUrl: string
  readonly dir: string
  readonly legacy: Service
  readonly candidate: Service
  close(): Promise<void>
}

/** `systemYaml` receives the two service URLs and returns the YAML of `systems:` entries. */
export async function startHarness(
  systemYaml: (legacy: string, candidate: string) => string,
  behaviours: { legacy?: Partial<Behaviour>; candidate?: Partial<Behaviour> } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-rollout-'))
  const legacy = await startService(behaviours.legacy)
  const candidate = await startService(behaviours.candidate)
  const config = parseConfig(`version: 1
gateway: { listen: 127.0.0.1:0 }
store: sqlite:${join(dir, 'tandem.db')}
systems:
${systemYaml(legacy.url, candidate.url)}`)
  // Built by the same composition root as `tandem up`; comparisons flush often for the tests.
  const instance = await createInstance({
    config,
    gatewayListen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    drainMs: 1000,
    admin: { dashboard: false },
    comparisons: { flushIntervalMs: 200 },
    controller: { failuresDir: join(dir, 'failures') },
  })
  const { store, routing } = instance
  const controller = instance.controller!
  return {
    config,
    store,
    routing,
    controller,
    gatewayUrl: instance.gatewayUrl,
    dir,
    legacy,
    candidate,
    async close() {
      await instance.close()
      await legacy.close()
      await candidate.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Send requests through the gateway (`concurrency` at a time, each user id sticky) until `done()` holds
 * or `maxRequests` have been sent. Bounded: it never runs forever.
 */
export async function trafficUntil(url: string, done: () => Promise<boolean> | boolean, options: { concurrency?: number; maxRequests?: number; pauseMs?: number } = {}): Promise<number> {
  const { concurrency = 4, maxRequests = 20_000, pauseMs = 0 } = options
  let sent = 0
  let stop = false
  const worker = async (w: number) => {
    while (!stop && sent < maxRequests) {
      const id = sent++
      const res = await request(`${url}/items/${id % 50}`, { headers: { 'x-user-id': `user-${w}-${id % 97}` } })
      await res.body.dump()
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs))
    }
  }
  const watcher = async () => {
    while (!stop && sent < maxRequests) {
      if (await done()) stop = true
      else await new Promise((r) => setTimeout(r, 50))
    }
    stop = true
  }
  await Promise.all([watcher(), ...Array.from({ length: concurrency }, (_, w) => worker(w))])
  return sent
}

/** Poll `check` every 50 ms, at most `maxPolls` times; resolves whether it became true. */
export async function eventually(check: () => Promise<boolean> | boolean, maxPolls = 600): Promise<boolean> {
  for (let i = 0; i < maxPolls; i++) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return false
}

export async function actions(store: Store, system: string): Promise<string[]> {
  return (await listDecisions(store, system)).map((d) => d.action)
}
