// Loopback peers for end-to-end tests: origins with a handler of the test's own, a sample service whose
// behaviour a test changes at run time, a webhook receiver that keeps every payload, bounded traffic
// through a gateway, raw requests a client library would refuse, and Prometheus samples.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { request } from 'undici'

export interface Origin {
  readonly url: string
  readonly server: Server
  readonly requests: IncomingMessage[]
  close(): Promise<void>
}

/** An HTTP server on 127.0.0.1:0; every request is remembered (with its body read) before `handler`. */
export async function origin(
  handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
  readBody = true,
): Promise<Origin> {
  const requests: IncomingMessage[] = []
  const server = createServer((req, res) => {
    requests.push(req)
    if (!readBody) return handler(req, res, Buffer.alloc(0))
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => handler(req, res, Buffer.concat(chunks)))
  })
  return { url: await listen(server), server, requests, close: () => close(server) }
}

/** A port that nothing listens on (bound, then released). */
export async function deadUrl(): Promise<string> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as AddressInfo).port
  await new Promise((r) => s.close(r))
  return `http://127.0.0.1:${port}`
}

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
      else {
        const body = JSON.stringify({ path: req.url, items: [1, 2, 3] })
        res.writeHead(200, { 'content-type': 'application/json' }).end(body)
      }
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
export async function startReceiver(
  status: (payload: Record<string, unknown>) => number = () => 200,
): Promise<Receiver> {
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
export async function trafficUntil(
  gateway: string,
  done: () => Promise<boolean> | boolean,
  options: TrafficOptions = {},
): Promise<number> {
  const { prefixes = [], concurrency = 4, maxRequests = 20_000, pauseMs = 0 } = options
  let sent = 0
  let stop = false
  const worker = async (w: number) => {
    while (!stop && sent < maxRequests) {
      const id = sent++
      const prefix = prefixes.length === 0 ? '' : `/${prefixes[id % prefixes.length]}`
      const headers = { 'x-user-id': `user-${w}-${id % 97}` }
      const res = await request(`${gateway}${prefix}/items/${id % 50}`, { headers })
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

/** The value of a Prometheus sample line, 0 when absent. */
export async function promValue(adminUrl: string, name: string, labels: Record<string, string>): Promise<number> {
  const res = await request(`${adminUrl}/metrics`)
  const text = await res.body.text()
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const labelText = line.slice(name.length + 1, line.lastIndexOf('}'))
    if (want.every((w) => labelText.split(',').includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return 0
}

/**
 * Send `head` (a raw request, which should say `connection: close`) to `url` over a plain socket and
 * read the answer to the end: for request targets a client library would rewrite or refuse.
 */
export async function rawRequest(
  url: string,
  head: string,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { port, hostname } = new URL(url)
  const socket = connect(Number(port), hostname)
  socket.write(head)
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  await once(socket, 'close')
  const text = Buffer.concat(chunks).toString('latin1')
  const end = text.indexOf('\r\n\r\n')
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n')
  const headers: Record<string, string> = {}
  for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim()
  let body = text.slice(end + 4)
  if (headers['transfer-encoding'] === 'chunked') {
    let decoded = ''
    for (let at = 0; ;) {
      const lineEnd = body.indexOf('\r\n', at)
      const size = Number.parseInt(body.slice(at, lineEnd), 16)
      if (!(size > 0)) break
      decoded += body.slice(lineEnd + 2, lineEnd + 2 + size)
      at = lineEnd + 2 + size + 2
    }
    body = decoded
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body }
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
