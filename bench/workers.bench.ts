// `tandem up --workers 1` vs `--workers 2`: requests/s and proxy CPU per request through autocannon,
// and how long a stage change takes to reach every gateway worker (target under 1 s, p99).
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import type { BenchSection } from './section.js'

const BIN = fileURLToPath(new URL('../bin/tandem.js', import.meta.url))
const CONNECTIONS = 32
const DURATION_S = 5
const CHANGES = 40
const TICKS_PER_S = 100

interface Up {
  child: ChildProcess
  gateway: string
  admin: string
  log: () => string
}

async function up(config: string, workers: number): Promise<Up> {
  const child = spawn(process.execPath, [BIN, 'up', '-c', config, '--json', '--workers', String(workers)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let log = ''
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()))
  const summary = await new Promise<{ gateway: string; admin: string }>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString()
      try {
        const s = JSON.parse(out) as { gateway?: string; admin: string }
        if (s.gateway) resolve(s as { gateway: string; admin: string })
        else reject(new Error(out))
      } catch {
        // incomplete
      }
    })
    child.once('exit', (code) => reject(new Error(`tandem up exited with ${code}: ${log}`)))
  })
  return { child, ...summary, log: () => log }
}

/** CPU seconds (user + system) used so far by `pid` and its live children. */
function cpuOf(pid: number): number {
  const ticks = (p: number): number => {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(f[11]) + Number(f[12])
  }
  let total = ticks(pid)
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) total += ticks(Number(entry))
    } catch {
      // gone
    }
  }
  return total / TICKS_PER_S
}

async function stop(t: Up): Promise<void> {
  const exited = once(t.child, 'exit')
  t.child.kill('SIGTERM')
  await exited
}

async function action(admin: string, system: string, verb: string): Promise<void> {
  const res = await fetch(`${admin}/api/v1/systems/${system}/actions/${verb}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  })
  if (!res.ok) throw new Error(`${verb}: ${res.status} ${await res.text()}`)
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN
}

export async function run(): Promise<BenchSection> {
  const origin = createServer((_req, res) => res.end('{"ok":true}'))
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-workers-'))
  const rows: Array<Record<string, string | number>> = []
  const notes: string[] = []
  try {
    for (const workers of [1, 2]) {
      const config = join(dir, `tandem-${workers}.yaml`)
      writeFileSync(
        config,
        `version: 1\nstore: sqlite:${join(dir, `w${workers}.db`)}\n` +
          `gateway: { listen: 127.0.0.1:0 }\nadmin: { listen: 127.0.0.1:0 }\n` +
          `systems:\n  - name: api\n    legacy: { url: ${url} }\n    candidate: { url: ${url} }\n` +
          `    routes: [{ path: /** }]\n`,
      )
      const t = await up(config, workers)
      try {
        await autocannon({ url: `${t.gateway}/x`, connections: CONNECTIONS, duration: 1 })
        const cpu0 = cpuOf(t.child.pid!)
        const result = await autocannon({ url: `${t.gateway}/x`, connections: CONNECTIONS, duration: DURATION_S })
        const cpu = cpuOf(t.child.pid!) - cpu0
        const total = result.requests.total
        rows.push({
          measure: `--workers ${workers}: proxy throughput`,
          value: `${Math.round(total / DURATION_S).toLocaleString('en-US')} req/s`,
          detail:
            `${((cpu * 1e6) / total).toFixed(0)} µs proxy CPU per request (all tandem processes); p99 ` +
            `${result.latency.p99} ms; errors ${result.errors + result.non2xx}`,
        })
        if (workers === 2) {
          await action(t.admin, 'api', 'start')
          const started: number[] = []
          for (let i = 0; i < CHANGES; i++) {
            started.push(Date.now())
            await action(t.admin, 'api', i % 2 === 0 ? 'pause' : 'resume')
          }
          // The primary logs when every worker acknowledged a routing change (pino JSON, `time` in ms).
          await new Promise((r) => setTimeout(r, 500))
          const reached = t
            .log()
            .split('\n')
            .filter((l) => l.includes('reached every gateway worker'))
            .map((l) => JSON.parse(l) as { time: number; ms: number })
          const lastChanges = reached.slice(-CHANGES)
          const endToEnd = lastChanges.map((r, i) => r.time - started[i]!).sort((a, b) => a - b)
          const ipc = lastChanges.map((r) => r.ms).sort((a, b) => a - b)
          rows.push({
            measure: 'stage change → both workers (API call to last worker ack)',
            value: `p50 ${quantile(endToEnd, 0.5)} ms, p99 ${quantile(endToEnd, 0.99)} ms`,
            detail:
              `${endToEnd.length} pause/resume actions; primary → workers alone: p50 ${quantile(ipc, 0.5)} ms, p99 ` +
              `${quantile(ipc, 0.99)} ms; target < 1000 ms p99`,
          })
        }
      } finally {
        await stop(t)
      }
    }
    notes.push(
      `One machine: autocannon (${CONNECTIONS} connections, ${DURATION_S} s) and the origin run in the bench ` +
        'process, so with 2 cores the load generator, the origin, the primary and the workers compete for the same ' +
        'CPUs; --workers 2 pays an IPC report per batch of calls to the primary, which alone records metrics.',
    )
  } finally {
    origin.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return { title: 'Gateway workers (`tandem up --workers`)', rows, notes }
}
