// Gateway forwarding throughput: Tandem vs @fastify/reply-from vs http-proxy (keep-alive agent), the
// same origins and the same autocannon load, in one run; plus shadow mode and RSS for 50 MiB bodies.
// The origins run in their own process, so mirroring adds no work to the load generator's process;
// the proxy's CPU time per request is the figure least moved by other work on the machine.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { build } from 'esbuild'
import { request } from 'undici'
import { system, tandemConfig, writeConfig } from '../test/support/config.js'
import { spawnUp } from '../test/support/up.js'
import type { BenchSection } from './section.js'

const WARMUP_S = 3
const DURATION_S = 5
/** Measured rounds per proxy, interleaved across proxies so that drift on the machine hits all alike. */
const ROUNDS = 5
const CONNECTIONS = 32
const MiB = 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, 7)
const BODY_BYTES = Buffer.byteLength(
  JSON.stringify({ id: 1, title: 'write the migration plan', done: true, tags: ['a', 'b'] }),
)
/** Linux USER_HZ: the unit of utime/stime in /proc/<pid>/stat. */
const TICKS_PER_S = 100
const KINDS = ['reply-from', 'http-proxy', 'tandem', 'tandem-shadow', 'tandem-shadow-compare'] as const

export interface Child {
  readonly child: ChildProcess
  readonly line: Record<string, string>
  /** utime + stime of the process so far, in ms. */
  cpuMs(): number
  peakRss(): number
}

export async function bundle(name: string): Promise<string> {
  const entry = fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url))
  const script = fileURLToPath(
    new URL(`../node_modules/.cache/tandem-bench/${name}-${process.pid}.mjs`, import.meta.url),
  )
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: script,
    logLevel: 'error',
  })
  return script
}

export async function start(script: string, args: string[]): Promise<Child> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string]
  const cpuMs = () => {
    // Fields after "(comm)": state is the first, utime the 12th and stime the 13th.
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(')').pop()!.trim().split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S
  }
  const peakRss = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024
  return { child, line: JSON.parse(line) as Record<string, string>, cpuMs, peakRss }
}

export async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

interface Round {
  rps: number
  p99: number
  errors: number
  /** Proxy CPU ms per request served. */
  proxyCpu: number
  /** Origin CPU ms per request served by the proxy (doubled by mirroring). */
  originCpu: number
}

export async function load(url: string, durationS: number): ReturnType<typeof autocannon> {
  return autocannon({ url: `${url}/todos/1`, connections: CONNECTIONS, duration: durationS, pipelining: 1 })
}

export async function measure(proxy: Child, origins: Child): Promise<Round> {
  const [p0, o0] = [proxy.cpuMs(), origins.cpuMs()]
  const r = await load(proxy.line.url!, DURATION_S)
  const [p1, o1] = [proxy.cpuMs(), origins.cpuMs()]
  const served = Math.max(1, r.requests.total)
  return {
    rps: r.requests.average,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx,
    proxyCpu: (p1 - p0) / served,
    originCpu: (o1 - o0) / served,
  }
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export async function run(): Promise<BenchSection> {
  const [proxyScript, originScript] = [await bundle('gateway-proxies'), await bundle('gateway-origins')]
  const origins = await start(originScript, [])
  const { legacy, candidate } = origins.line as { legacy: string; candidate: string }

  const proxies = new Map<string, Child>()
  const rounds = new Map<string, Round[]>(KINDS.map((k) => [k, []]))
  try {
    for (const kind of KINDS) {
      const proxy = await start(proxyScript, [kind, legacy, candidate])
      proxies.set(kind, proxy)
      await load(proxy.line.url!, WARMUP_S) // connections open, JIT warm
    }
    for (let i = 0; i < ROUNDS; i++) {
      for (const kind of KINDS) rounds.get(kind)!.push(await measure(proxies.get(kind)!, origins))
    }
  } finally {
    for (const p of proxies.values()) await stop(p.child)
  }

  const med = new Map(
    [...rounds].map(([kind, rs]) => [
      kind,
      {
        rps: median(rs.map((r) => r.rps)),
        p99: median(rs.map((r) => r.p99)),
        errors: rs.reduce((n, r) => n + r.errors, 0),
        proxyCpu: median(rs.map((r) => r.proxyCpu)),
        originCpu: median(rs.map((r) => r.originCpu)),
      },
    ]),
  )
  const base = med.get('reply-from')!
  const plain = med.get('tandem')!
  const shadow = med.get('tandem-shadow')!
  const rows = [...med].map(([kind, r]) => ({
    proxy: kind,
    'req/s': Math.round(r.rps),
    'p99 ms': r.p99,
    errors: r.errors,
    'proxy CPU ms/req': r.proxyCpu.toFixed(3),
    'origin CPU ms/req': r.originCpu.toFixed(3),
    'req/s vs reply-from': (r.rps / base.rps).toFixed(2),
    'req/s vs tandem': (r.rps / plain.rps).toFixed(2),
  }))

  // Peak RSS of a real `tandem up` process (gateway, admin, store, controller) for 50 MiB each way,
  // a fresh process per case.
  const rss: string[] = []
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-rss-'))
  const configFile = writeConfig(dir, tandemConfig({ dir, systems: [system('files', { legacy, candidate })] }))
  for (const direction of ['upload', 'download'] as const) {
    const up = await spawnUp(configFile, { dist: true })
    const url = up.gatewayUrl
    if (direction === 'upload') {
      let sent = 0
      const body = new Readable({
        read() {
          if (sent >= 50 * MiB) return void this.push(null)
          sent += CHUNK.length
          this.push(CHUNK)
        },
      })
      const res = await request(`${url}/upload`, { method: 'POST', body })
      await res.body.dump()
    } else {
      const res = await request(`${url}/big`)
      for await (const _ of res.body) {
        // consume
      }
    }
    rss.push(
      `\`tandem up\` peak RSS (VmHWM) for a 50 MiB ${direction}: ${(up.peakRss() / 1e6).toFixed(0)} MB (target < ` +
        `150 MB)`,
    )
    await up.stop()
  }
  rmSync(dir, { recursive: true, force: true })
  await stop(origins.child)

  return {
    title: 'Gateway forwarding',
    description:
      `GET of a ${BODY_BYTES}-byte JSON body through each proxy (its own process, bundled JS; Tandem with the ` +
      `memory settings \`tandem up\` applies, src/gateway/memory.ts; the peers with Node's defaults) to loopback ` +
      `origins in a separate process (legacy and candidate listeners); autocannon, ${CONNECTIONS} connections, ` +
      `in the bench process. ` +
      `Each proxy gets a ${WARMUP_S} s warm-up, then ${ROUNDS} rounds of ${DURATION_S} s interleaved across proxies; ` +
      'figures are medians over the rounds. CPU ms/req is the utime+stime of the process (/proc/<pid>/stat) during a ' +
      'round divided by the requests served. Shadow mode mirrors every request to the candidate listener, captures ' +
      'both responses and hands them to a counting comparison sink; tandem-shadow-compare hands them to the real ' +
      'comparison engine with a SQLite store (the two origins answer the same bytes, so this is the comparison ' +
      'path at its cheapest).',
    rows,
    notes: [
      `Tandem / reply-from, req/s: ${(plain.rps / base.rps).toFixed(2)}x (target >= 1.3x); CPU per request: ` +
        `${(base.proxyCpu / plain.proxyCpu).toFixed(2)}x less`,
      `Tandem shadow / Tandem plain, req/s: ${(shadow.rps / plain.rps).toFixed(2)}x (target >= 0.7x); by proxy CPU ` +
        `per request (plain / shadow): ${(plain.proxyCpu / shadow.proxyCpu).toFixed(2)}x`,
      `Tandem shadow with the comparison engine / Tandem plain, req/s: ` +
        `${(med.get('tandem-shadow-compare')!.rps / plain.rps).toFixed(2)}x`,
      ...rss,
      'The load generator, the origins and the proxy share the machine (req/s moves with its other load); quote ' +
        'the ratios, and prefer the CPU-per-request figures.',
    ],
  }
}
