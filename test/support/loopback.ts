// Loopback peers for end-to-end tests: a sample service whose behaviour a test changes at run time, a
// webhook receiver that keeps every payload, and bounded traffic through a gateway.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'

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

/** A JSON service on 127.0.0.1: `/health` answers `behaviour.health`, every other path `{ path, items }`. */
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
  const url = await listen(server)
  return {
    url,
    behaviour,
    served: () => n,
    close: () => close(server),
  }
}

export interface Receiver {
  readonly url: string
  /** Every JSON payload received, in order, with the path it was posted to. */
  readonly received: Array<Record<string, unknown>>
  readonly paths: string[]
  close(): Promise<void>
}

/** A webhook receiver at `${url}` (path /hook); `status` picks the answer to each payload (default 200). */
export async function startReceiver(status: (payload: Record<string, unknown>) => number = () => 200): Promise<Receiver> {
  const received: Array<Record<string, unknown>> = []
  const paths: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const payload = JSON.parse(body || '{}') as Record<string, unknown>
      received.push(payload)
      paths.push(req.url ?? '')
      res.writeHead(status(payload)).end('ok')
    })
  })
  return { url: `${await listen(server)}/hook`, received, paths, close: () => close(server) }
}

export interface TrafficOptions {
  /** Path prefixes taken in turn: `${gateway}/${prefix}/items/N` (default none: `${gateway}/items/N`). */
  readonly prefixes?: readonly string[]
  readonly concurrency?: number
  readonly maxRequests?: number
  readonly pauseMs?: number
}

/**
 * Send requests through the gateway (`concurrency` at a time, each user id sticky) until `done()` holds
 * or `maxRequests` have been sent. Bounded: it never runs forever. Resolves with the number sent.
 */
export async function trafficUntil(gateway: string, done: () => Promise<boolean> | boolean, options: TrafficOptions = {}): Promise<number> {
  const { prefixes = [], concurrency = 4, maxRequests = 20_000, pauseMs = 0 } = options
  let sent = 0
  let stop = false
  const worker = async (w: number) => {
    while (!stop && sent < maxRequests) {
      const id = sent++
      const prefix = prefixes.length === 0 ? '' : `/${prefixes[id % prefixes.length]}`
      const res = await request(`${gateway}${prefix}/items/${id % 50}`, { headers: { 'x-user-id': `user-${w}-${id % 97}` } })
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

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
}
