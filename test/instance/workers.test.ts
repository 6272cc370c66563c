// `tandem up --workers 2` as a user runs it, on SQLite and on PostgreSQL: two gateway processes share
// the listener, every request is counted once by the primary, a promote from the CLI reaches both
// workers, and SIGTERM drains them all and exits 0.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, tandem } from '../support/cli.js'
import { system, tandemConfig, writeConfig } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { origin, promValue, type Origin } from '../support/loopback.js'
import { withPostgresSchema } from '../support/postgres.js'
import { spawnUp } from '../support/up.js'

/** An origin answering its arm's name. */
const armOrigin = (arm: string): Promise<Origin> =>
  origin((_req, res) => {
    res.writeHead(200)
    res.end(arm)
  })

const removeDir = (dir: string): void => rmSync(dir, { recursive: true, force: true })

let legacy: Origin
let candidate: Origin

beforeAll(async () => {
  legacy = await armOrigin('legacy')
  candidate = await armOrigin('candidate')
})

afterAll(async () => {
  await legacy?.close()
  await candidate?.close()
})

interface Up {
  readonly child: ChildProcess
  readonly gateway: string
  readonly admin: string
  log(): string
}

/** The kit's spawnUp with two gateway workers, run from the repository root. */
async function up(configFile: string): Promise<Up> {
  const p = await spawnUp(configFile, { cwd: ROOT, args: ['--workers', '2'] })
  return { child: p.child, gateway: p.gatewayUrl, admin: p.adminUrl, log: () => p.stderr() }
}

/** Live gateway workers (child processes) of `pid`, read from /proc/<n>/stat (field 4 is the parent). */
function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // Gateway workers run the same command as the primary (tsx may add an esbuild child: not counted).
      const command = Number(ppid) === pid && state !== 'Z' ? readFileSync(`/proc/${entry}/cmdline`, 'utf8') : ''
      if (command.includes('tandem.js')) out.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return out
}

function statusOf(pid: number): string {
  try {
    return /State:\s+(.*)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? ''
  } catch {
    return ''
  }
}

function alive(pid: number): boolean {
  if (/^Z/m.test(statusOf(pid))) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function totals(admin: string, since: number): Promise<{ legacy: number; candidate: number }> {
  const until = Date.now() + 1000
  const res = await request(
    `${admin}/api/v1/systems/alpha/metrics?source=live&since=${since}&until=${until}&step=${until - since}`,
  )
  const body = (await res.body.json()) as {
    windows: Array<{ legacy: { requests: number }; candidate: { requests: number } }>
  }
  const sum = { legacy: 0, candidate: 0 }
  for (const w of body.windows) {
    sum.legacy += w.legacy.requests
    sum.candidate += w.candidate.requests
  }
  return sum
}

async function send(gateway: string, count: number): Promise<string[]> {
  const arms: string[] = []
  for (let i = 0; i < count; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, count - i) }, async () => {
        const res = await request(`${gateway}/alpha/x`)
        expect(res.statusCode).toBe(200)
        return res.body.text()
      }),
    )
    arms.push(...batch)
  }
  return arms
}

async function workersCase(store: string, dir: string): Promise<void> {
  const alpha = system('alpha', { legacy: legacy.url, candidate: candidate.url, routes: [{ path: '/alpha/**' }] })
  const file = writeConfig(dir, tandemConfig({ store, systems: [alpha] }))
  const since = Date.now() - 1000
  const t = await up(file)
  try {
    const workers = childrenOf(t.child.pid!)
    expect(workers).toHaveLength(2)
    // Every request counted once: the workers report to the primary, which alone records.
    const arms = await send(t.gateway, 400)
    expect(arms.every((a) => a === 'legacy')).toBe(true)
    const counted = await eventually(() => totals(t.admin, since), {
      until: (s) => s.legacy >= 400,
      tries: 201,
      every: 100,
    })
    expect(counted, t.log().slice(-3000)).toEqual({ legacy: 400, candidate: 0 })
    // The primary's one latency histogram holds every sample of both workers, once.
    const histogramCount = await promValue(t.admin, 'tandem_request_duration_seconds_count', {
      system: 'alpha',
      arm: 'legacy',
    })
    expect(histogramCount).toBe(400)

    // A promote through the CLI reaches both workers: 40 answers in a row (round robin) from the candidate.
    const started = await tandem(['start', 'alpha', '--admin', t.admin])
    expect(started.code, started.stderr).toBe(0)
    const promoted = await tandem(['promote', 'alpha', '--admin', t.admin])
    expect(promoted.code, promoted.stderr).toBe(0)
    let streak = 0
    const served = { legacy: 400, candidate: 0 }
    for (let i = 0; i < 400 && streak < 40; i++) {
      const [arm] = await send(t.gateway, 1)
      served[arm as 'legacy' | 'candidate']++
      streak = arm === 'candidate' ? streak + 1 : 0
    }
    expect(streak).toBe(40)
    // Legacy served exactly what the clients got from it; the candidate also counts shadow mirrors.
    const after = await eventually(() => totals(t.admin, since), {
      until: (s) => s.legacy >= served.legacy && s.candidate >= served.candidate,
      tries: 101,
      every: 50,
    })
    expect(after.legacy).toBe(served.legacy)
    expect(after.candidate).toBeGreaterThanOrEqual(served.candidate)
    const decisions = await request(`${t.admin}/api/v1/systems/alpha/decisions`)
    const body = JSON.stringify(await decisions.body.json())
    expect(body).toContain('promote')

    // SIGHUP reload reaches the workers: a new route answers from every worker.
    const routes = [{ path: '/alpha/**' }, { path: '/beta/**' }]
    writeConfig(dir, tandemConfig({ store, systems: [{ ...alpha, routes }] }))
    t.child.kill('SIGHUP')
    let found = 0
    for (let i = 0; i < 400 && found < 20; i++) {
      const res = await request(`${t.gateway}/beta/x`)
      await res.body.dump()
      found = res.statusCode === 200 ? found + 1 : 0
      if (found === 0) await new Promise((r) => setTimeout(r, 20))
    }
    expect(found).toBe(20)

    // A crashed worker is replaced, with a log line.
    process.kill(workers[0]!, 'SIGKILL')
    const replaced = await eventually(async () => childrenOf(t.child.pid!), {
      until: (c) => c.length === 2 && !c.includes(workers[0]!),
      tries: 201,
      every: 50,
    })
    expect(replaced).toHaveLength(2)
    expect(t.log()).toContain('gateway worker died')
    const again = await eventually(() => send(t.gateway, 10).catch(() => []), {
      until: (a) => a.length === 10,
      tries: 101,
      every: 50,
    })
    expect(again).toEqual(Array(10).fill('candidate'))

    const exited = once(t.child, 'exit')
    t.child.kill('SIGTERM')
    const [code] = await exited
    expect(code, t.log()).toBe(0)
    // Reaped by now, or within a bounded wait (an exited child may linger briefly as a zombie).
    const left = await eventually(async () => [...workers, ...replaced].filter(alive), {
      until: (l) => l.length === 0,
      tries: 101,
      every: 50,
    })
    expect(left, t.log()).toEqual([])
  } finally {
    if (t.child.exitCode === null) t.child.kill('SIGKILL')
  }
}

describe('tandem up --workers 2', () => {
  it('refuses a --workers that is not a whole number from 1 or auto, with a usage error', async () => {
    for (const bad of ['0', 'two', '1.5']) {
      const run = await tandem(['up', '--workers', bad, '-c', join(tmpdir(), 'never-read.yaml')])
      expect(run.code).toBe(2)
      expect(run.stdout + run.stderr).toContain('TANDEM_ERR_USAGE')
    }
  })

  it('on SQLite: counts each request once, promotes on both workers, drains on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-workers-'))
    try {
      await workersCase(`sqlite:${join(dir, 'tandem.db')}`, dir)
    } finally {
      removeDir(dir)
    }
  }, 150_000)

  it('on PostgreSQL: the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-workers-pg-'))
    const pg = await withPostgresSchema()
    try {
      await workersCase(pg.url, dir)
    } finally {
      await pg.drop()
      removeDir(dir)
    }
  }, 150_000)
})
