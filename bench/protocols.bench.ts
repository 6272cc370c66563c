// Protocols: HTTP/2 (h2load, prior-knowledge h2c) through Tandem vs directly vs the http2-proxy peer,
// and gRPC unary calls/s through Tandem, plain and shadowed, vs directly with the same grpc-js client.
// Origins and proxies run in processes of their own; the load generators in this one (h2load is its own).
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import * as grpc from '@grpc/grpc-js'
import { build } from 'esbuild'
import { loadOrdersService, PROTO } from '../examples/grpc/services.js'
import type { BenchSection } from './section.js'

const ROUNDS = 3
const H2_REQUESTS = 20_000
const H2_CLIENTS = 8
const H2_STREAMS = 10
const GRPC_SECONDS = 4
const GRPC_IN_FLIGHT = 32
/** Seconds of calls before measuring: the JIT settles, the shadow path's first seconds run 2x slower. */
const GRPC_WARM_SECONDS = 3

async function bundle(name: string): Promise<string> {
  const entry = fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url))
  const cache = new URL(`../node_modules/.cache/tandem-bench/${name}-${process.pid}.mjs`, import.meta.url)
  const script = fileURLToPath(cache)
  const options = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external' } as const
  await build({ entryPoints: [entry], ...options, outfile: script, logLevel: 'error' })
  return script
}

async function start(argv: string[]): Promise<{ child: ChildProcess; line: Record<string, string> }> {
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string]
  return { child, line: JSON.parse(line) as Record<string, string> }
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** req/s of one h2load run over prior-knowledge h2c; failed requests make the figure meaningless. */
async function h2load(url: string, requests = H2_REQUESTS): Promise<number> {
  const args = ['-n', String(requests), '-c', String(H2_CLIENTS), '-m', String(H2_STREAMS), `${url}/todos/1`]
  const { stdout } = await promisify(execFile)('h2load', args)
  const rps = /finished in [^,]+, ([\d.]+) req\/s/.exec(stdout)
  const ok = /(\d+) succeeded, (\d+) failed/.exec(stdout)
  if (rps === null || ok === null || Number(ok[2]) > 0) throw new Error(`h2load against ${url} failed:\n${stdout}`)
  return Number(rps[1])
}

type Orders = grpc.Client & { GetOrder: (r: object, cb: (e: grpc.ServiceError | null) => void) => void }

/** Unary GetOrder calls completed per second, GRPC_IN_FLIGHT at a time, for `seconds`. */
async function grpcLoad(url: string, seconds = GRPC_SECONDS): Promise<{ rps: number; calls: number; errors: number }> {
  const Client = grpc.makeGenericClientConstructor(loadOrdersService(), 'Orders')
  const client = new Client(new URL(url).host, grpc.credentials.createInsecure()) as unknown as Orders
  const end = performance.now() + seconds * 1000
  let done = 0
  let errors = 0
  const worker = async () => {
    while (performance.now() < end) {
      await new Promise<void>((resolve) =>
        client.GetOrder({ id: '7' }, (e) => {
          if (e === null) done++
          else errors++
          resolve()
        }),
      )
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: GRPC_IN_FLIGHT }, worker))
  const elapsed = (performance.now() - started) / 1000
  client.close()
  return { rps: done / elapsed, calls: done, errors }
}

/** CPU time (user + system, seconds) a process has used so far (Linux /proc). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

export async function run(): Promise<BenchSection> {
  const proxyScript = await bundle('protocol-proxies')
  // The origins load the example's .proto next to its sources: they run through tsx, not bundled.
  const originScript = fileURLToPath(new URL('./fixtures/protocol-origins.ts', import.meta.url))
  const origins = await start(['--import', 'tsx', originScript])
  const { http1, h2c, grpcLegacy, grpcCandidate } = origins.line as Record<string, string>
  const children: ChildProcess[] = [origins.child]
  try {
    const targets: Record<string, string> = { direct: h2c! }
    for (const kind of ['tandem-h2c', 'http2-proxy']) {
      const p = await start([proxyScript, kind, http1!])
      children.push(p.child)
      targets[kind] = p.line.url!
    }
    const h2: Record<string, number[]> = {}
    for (const [name, url] of Object.entries(targets)) {
      await h2load(url, 5_000) // warm-up: connections open, JIT warm
      h2[name] = []
    }
    for (let i = 0; i < ROUNDS; i++) {
      for (const [name, url] of Object.entries(targets)) h2[name]!.push(await h2load(url))
    }

    const grpcTargets: Record<string, string> = { direct: grpcLegacy! }
    const proxyPids: Record<string, number> = {}
    for (const kind of ['tandem-grpc', 'tandem-grpc-shadow']) {
      const p = await start([proxyScript, kind, grpcLegacy!, grpcCandidate!, PROTO])
      children.push(p.child)
      grpcTargets[kind] = p.line.url!
      proxyPids[kind] = p.child.pid!
    }
    const calls: Record<string, number[]> = {}
    const cpuPerCall: Record<string, number[]> = {}
    let grpcErrors = 0
    for (const [name, url] of Object.entries(grpcTargets)) {
      await grpcLoad(url, GRPC_WARM_SECONDS)
      calls[name] = []
      cpuPerCall[name] = []
    }
    for (let i = 0; i < ROUNDS; i++) {
      for (const [name, url] of Object.entries(grpcTargets)) {
        const pid = proxyPids[name]
        const before = pid === undefined ? 0 : await cpuSeconds(pid)
        const r = await grpcLoad(url)
        if (pid !== undefined) cpuPerCall[name]!.push(((await cpuSeconds(pid)) - before) / r.calls)
        calls[name]!.push(r.rps)
        grpcErrors += r.errors
      }
    }

    const h2Direct = median(h2.direct!)
    const grpcDirect = median(calls.direct!)
    const row = (label: string, v: number[], base: number, cpu?: number[]) => ({
      case: label,
      'req/s': Math.round(median(v)),
      'vs direct': (median(v) / base).toFixed(2),
      'proxy CPU µs/call': cpu === undefined || cpu.length === 0 ? '' : Math.round(median(cpu) * 1e6),
    })
    const rows = [
      ...Object.entries(h2).map(([name, v]) => row(`HTTP/2 h2load: ${name}`, v, h2Direct)),
      ...Object.entries(calls).map(([name, v]) => row(`gRPC unary: ${name}`, v, grpcDirect, cpuPerCall[name])),
    ]
    const ratio = (v: number[] | undefined, base: number) => (median(v!) / base).toFixed(2)
    return {
      title: 'Protocols: HTTP/2 and gRPC',
      description:
        `HTTP/2: h2load (${H2_REQUESTS} requests, ${H2_CLIENTS} connections, ${H2_STREAMS} streams each, ` +
        'prior-knowledge h2c) ' +
        'for a small JSON body, directly against an h2c origin, through Tandem (HTTP/2 client side, HTTP/1.1 to the ' +
        'origin) and through http2-proxy (same setup). gRPC: unary GetOrder calls of the example orders service with ' +
        `one grpc-js client, ${GRPC_IN_FLIGHT} calls in flight for ${GRPC_SECONDS} s after ${GRPC_WARM_SECONDS} s of ` +
        'warm-up, directly and through Tandem (plain, and in shadow with every call mirrored to the candidate, ' +
        'decoded and handed to a counting sink); proxy CPU is the user+system time of the Tandem process per call. ' +
        `Medians of ${ROUNDS} interleaved rounds; every process shares the machine.`,
      rows,
      notes: [
        `Tandem h2c / direct: ${ratio(h2['tandem-h2c'], h2Direct)}x; ` +
          `http2-proxy / direct: ${ratio(h2['http2-proxy'], h2Direct)}x`,
        `gRPC through Tandem / direct: ${ratio(calls['tandem-grpc'], grpcDirect)}x (target >= 0.5x); ` +
          `shadowed / direct: ${ratio(calls['tandem-grpc-shadow'], grpcDirect)}x (target >= 0.35x); ` +
          `failed calls: ${grpcErrors}`,
      ],
    }
  } finally {
    for (const child of children) await stop(child)
  }
}
