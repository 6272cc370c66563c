// Shared pieces of the playbook tests: a webhook receiver on loopback that keeps every payload, and
// traffic through the gateway to several systems' routes at once (bounded, never runs forever).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'

export interface Receiver {
  readonly url: string
  readonly received: Array<Record<string, unknown>>
  close(): Promise<void>
}

export async function startReceiver(): Promise<Receiver> {
  const received: Array<Record<string, unknown>> = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      received.push(JSON.parse(body || '{}') as Record<string, unknown>)
      res.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** Requests to `${gateway}/${prefix}/items/N` for every prefix in turn until `done()` or `maxRequests`. */
export async function trafficTo(gateway: string, prefixes: readonly string[], done: () => Promise<boolean>, maxRequests = 20_000): Promise<number> {
  let sent = 0
  let stop = false
  const worker = async (w: number) => {
    while (!stop && sent < maxRequests) {
      const id = sent++
      const res = await request(`${gateway}/${prefixes[id % prefixes.length]}/items/${id % 50}`, { headers: { 'x-user-id': `user-${w}-${id % 97}` } })
      await res.body.dump()
    }
  }
  const watcher = async () => {
    while (!stop && sent < maxRequests) {
      if (await done()) stop = true
      else await new Promise((r) => setTimeout(r, 50))
    }
    stop = true
  }
  await Promise.all([watcher(), ...Array.from({ length: 4 }, (_, w) => worker(w))])
  return sent
}
