// Gateway forwarding throughput: Tandem vs @fastify/reply-from vs http-proxy (keep-alive agent), the
// same origin and the same autocannon load, in one run; plus shadow mode and RSS for 50 MiB bodies.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { build } from 'esbuild'
import { request } from 'undici'
import type { BenchSection } from './section.js'

const DURATION_S = 5
const CONNECTIONS = 32
const MiB = 1024 * 1024
const BODY = JSON.stringify({ id: 1, title: 'write the migration plan', done: true, tags: ['a', 'b'] })
const CHUNK = Buffer.alloc(64 * 1024, 7)

async function startProxy(kind: string, originUrl: string): Promise<{ url: string; child: ChildProcess; peakRss: () => number }> {
  const entry = fileURLToPath(new URL('./fixtures/gateway-proxies.ts', import.meta.url))
  const script = fileURLToPath(new URL(`../node_modules/.cache/tandem-bench/proxies-${process.pid}.mjs`, import.meta.url))
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: script, logLevel: 'error' })
  const child = spawn(process.execPath, ['--max-semi-space-size=2', script, kind, originUrl], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string]
  const peakRss = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024
  return { url: (JSON.parse(line) as { url: string }).url, child, peakRss }
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

async function load(url: string): Promise<{ rps: number; p99: number; errors: number }> {
  const result = await autocannon({ url: `${url}/todos/1`, connections: CONNECTIONS, duration: DURATION_S, pipelining: 1 })
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx }
}

export async function run(): Promise<BenchSection> {
  const origin = createServer((req, res) => {
    if (req.method === 'POST') {
      req.resume()
      req.on('end', () => res.end('ok'))
      return
    }
    if (req.url === '/big') {
      res.writeHead(200, { 'content-length': String(50 * MiB) })
      let written = 0
      const pump = () => {
        while (written < 50 * MiB) {
          written += CHUNK.length
          if (!res.write(CHUNK)) return void res.once('drain', pump)
        }
        res.end()
      }
      return pump()
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) })
    res.end(BODY)
  })
  origin.keepAliveTimeout = 30_000
  origin.listen(0, '127.0.0.1')
  await once(origin, 'listening')
  const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`

  const rows: Record<string, string | number>[] = []
  const results = new Map<string, { rps: number; p99: number; errors: number }>()
  for (const kind of ['reply-from', 'http-proxy', 'tandem', 'tandem-shadow']) {
    const proxy = await startProxy(kind, originUrl)
    await load(proxy.url) // warm-up: connections open, JIT warm; the figures come from the second run
    const r = await load(proxy.url)
    results.set(kind, r)
    await stop(proxy.child)
  }
  const base = results.get('reply-from')!.rps
  const plain = results.get('tandem')!.rps
  for (const [kind, r] of results) {
    rows.push({ proxy: kind, 'req/s': Math.round(r.rps), 'p99 ms': r.p99, errors: r.errors, 'vs reply-from': (r.rps / base).toFixed(2), 'vs tandem': (r.rps / plain).toFixed(2) })
  }

  // Peak RSS of the Tandem gateway process for 50 MiB each way (fresh process per case).
  const rss: string[] = []
  for (const direction of ['upload', 'download'] as const) {
    const proxy = await startProxy('tandem', originUrl)
    if (direction === 'upload') {
      let sent = 0
      const body = new Readable({ read() { if (sent >= 50 * MiB) return void this.push(null); sent += CHUNK.length; this.push(CHUNK) } })
      const res = await request(`${proxy.url}/upload`, { method: 'POST', body })
      await res.body.dump()
    } else {
      const res = await request(`${proxy.url}/big`)
      for await (const _ of res.body) {
        // consume
      }
    }
    rss.push(`gateway peak RSS (VmHWM) for a 50 MiB ${direction}: ${(proxy.peakRss() / 1e6).toFixed(0)} MB`)
    await stop(proxy.child)
  }
  origin.closeAllConnections()
  origin.close()

  return {
    title: 'Gateway forwarding',
    description: `GET of a ${Buffer.byteLength(BODY)}-byte JSON body through each proxy (its own process, bundled JS) to the same loopback origin; autocannon, ${CONNECTIONS} connections, ${DURATION_S} s after a ${DURATION_S} s warm-up.`,
    rows,
    notes: [
      `Tandem / reply-from: ${(plain / base).toFixed(2)}x (target >= 1.3x)`,
      `Tandem shadow (every request mirrored to the same origin) / Tandem plain: ${(results.get('tandem-shadow')!.rps / plain).toFixed(2)}x (target >= 0.7x)`,
      ...rss,
      'The load generator, the origin and the proxy share the machine; quote the ratios.',
    ],
  }
}
