// The two bundled services of `tandem demo`: a legacy todo API and its rewrite. The rewrite differs in
// a few real ways (a renamed status value, a dropped field) and has a switch that makes it fail.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SampleService {
  readonly url: string
  close(): Promise<void>
}

export interface RewriteSwitches {
  /** Fraction of API requests the rewrite answers with 500 (the injected fault). */
  failRate: number
}

const TODOS = Array.from({ length: 40 }, (_, i) => ({
  id: i + 1,
  title: `todo number ${i + 1}`,
  done: i % 3 === 0,
  owner: `user-${(i % 5) + 1}`,
  tags: i % 4 === 0 ? ['home'] : ['work'],
}))

// About one response in ten differs: enough to show the diff, within the promote rule (match >= 0.8).
const STATUS_DIFFERS = new Set([19, 37])
const TAGS_DROPPED = new Set([30, 40])

function send(res: ServerResponse, status: number, body: unknown, delayMs: number): void {
  const text = JSON.stringify(body)
  // A few milliseconds of simulated work, so latency comparisons measure more than loopback jitter.
  setTimeout(() => res.writeHead(status, { 'content-type': 'application/json' }).end(text), delayMs)
}

const todoId = (url: string): number | null => {
  const m = /^\/todos\/(\d+)$/.exec(url.split('?')[0]!)
  return m === null ? null : Number(m[1])
}

/** The legacy API: what users rely on today. */
function legacyHandler(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/'
  if (url === '/health') return send(res, 200, { ok: true }, 0)
  const meta = { requestId: Math.random().toString(36).slice(2), updatedAt: new Date().toISOString() }
  if (url.startsWith('/todos?') || url === '/todos') return send(res, 200, { items: TODOS.slice(0, 10), meta }, 8)
  const id = todoId(url)
  const todo = TODOS.find((t) => t.id === id)
  if (todo === undefined) return send(res, 404, { error: 'not found' }, 4)
  return send(res, 200, { ...todo, status: todo.done ? 'completed' : 'open', meta }, 8)
}

/** The rewrite: same API, with the differences a real rewrite tends to have. */
function rewriteHandler(switches: RewriteSwitches): (req: IncomingMessage, res: ServerResponse) => void {
  let served = 0
  return (req, res) => {
    const url = req.url ?? '/'
    if (url === '/health') return send(res, 200, { ok: true }, 0)
    served++
    if (Math.floor(served * switches.failRate) > Math.floor((served - 1) * switches.failRate)) {
      return send(res, 500, { error: 'connection pool exhausted' }, 2)
    }
    const meta = { requestId: Math.random().toString(36).slice(2), updatedAt: new Date().toISOString() }
    if (url.startsWith('/todos?') || url === '/todos') return send(res, 200, { items: TODOS.slice(0, 10), meta }, 6)
    const id = todoId(url)
    const todo = TODOS.find((t) => t.id === id)
    if (todo === undefined) return send(res, 404, { error: 'not found' }, 3)
    // Difference 1: two done todos are reported as "done" rather than "completed".
    const status = todo.done ? (STATUS_DIFFERS.has(todo.id) ? 'done' : 'completed') : 'open'
    // Difference 2: the rewrite forgot `tags` on two todos.
    const { tags, ...rest } = todo
    const body = TAGS_DROPPED.has(todo.id) ? { ...rest, status, meta } : { ...rest, tags, status, meta }
    return send(res, 200, body, 6)
  }
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<SampleService> {
  const server: Server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export async function startSampleServices(): Promise<{
  legacy: SampleService
  rewrite: SampleService
  switches: RewriteSwitches
}> {
  const switches: RewriteSwitches = { failRate: 0 }
  const legacy = await listen(legacyHandler)
  const rewrite = await listen(rewriteHandler(switches))
  return { legacy, rewrite, switches }
}
