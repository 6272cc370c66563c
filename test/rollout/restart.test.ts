// Must hold: `kill -9` of `tandem up` in the middle of a canary loses nothing. After a restart the
// system is at the same stage, weight and step, and the decision log runs 1..n without gap or duplicate.
// Also drives the operator verbs and `tandem status` through the CLI and the admin API.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { openStore } from '../../src/store/open.js'
import { getState, listDecisions } from '../../src/store/system-state.js'
import { eventually, startService, type Service } from './harness.js'

const BIN = resolve('bin/tandem.js')

interface Up {
  child: ChildProcess
  gateway: string
  admin: string
}

/** Start `tandem up --json` and read the addresses it prints. */
async function up(dir: string): Promise<Up> {
  const child = spawn(process.execPath, [BIN, 'up', '-c', join(dir, 'tandem.yaml'), '--json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()))
  const summary = await new Promise<{ gateway: string; admin: string }>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      let parsed: { gateway: string; admin: string; error?: unknown }
      try {
        parsed = JSON.parse(out)
      } catch {
        return // not complete yet
      }
      if (parsed.error !== undefined) reject(new Error(`tandem up failed: ${out} ${err}`))
      else resolve(parsed)
    })
    child.on('exit', (code) => reject(new Error(`tandem up exited ${code}: ${err}`)))
  })
  return { child, gateway: summary.gateway, admin: summary.admin }
}

/** Run a CLI verb; resolves with its exit code and stdout. */
function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TANDEM_TOKEN: '' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

async function traffic(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await request(`${url}/items/${i}`, { headers: { 'x-user-id': `u${i}` } })
    await res.body.dump()
  }
}

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

describe('tandem up restart', () => {
  it('resumes the same stage, weight and step after kill -9, with a gapless decision log', { timeout: 300_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-restart-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const legacy: Service = await startService()
    const candidate: Service = await startService()
    cleanup.push(() => legacy.close(), () => candidate.close())
    await writeFile(
      join(dir, 'tandem.yaml'),
      `version: 1
gateway: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
store: sqlite:${join(dir, 'tandem.db')}
systems:
  - name: orders
    legacy: { url: ${legacy.url} }
    candidate: { url: ${candidate.url} }
    routes: [{ path: /** }]
    rollout: { steps: [{weight: 20, pause: 1h}, {weight: 50, pause: 1h}, {weight: 100}] }
    # Sub-millisecond loopback latencies make the relative latency trigger noise; this test is about restarts.
    analysis: { interval: 200ms, minSamples: 5, rollback: { latencyP95: "off" } }
`,
    )

    let first: Up | undefined = await up(dir)
    cleanup.push(async () => void first?.child.kill('SIGKILL'))
    const admin = ['--admin', first.admin, '--json']
    const started = await cli(['start', 'orders', '--force', ...admin], dir)
    expect(started.code, started.stdout + started.stderr).toBe(0)
    expect(JSON.parse(started.stdout)).toMatchObject({ system: 'orders', action: 'start', state: { stage: 'canary', weight: 20, stepIndex: 0 } })
    const advanced = await cli(['advance', 'orders', ...admin], dir)
    expect(advanced.code, advanced.stdout + advanced.stderr).toBe(0)
    await traffic(first.gateway, 60)
    const paused = await cli(['pause', 'orders', '--reason', 'checking dashboards', ...admin], dir)
    expect(paused.code, paused.stdout + paused.stderr).toBe(0)
    // Verdicts accumulate while it is paused mid-canary.
    await traffic(first.gateway, 60)
    const status = await cli(['status', 'orders', ...admin], dir)
    expect(status.code, status.stdout + status.stderr).toBe(0)
    const before = JSON.parse(status.stdout)
    expect(before).toMatchObject({ name: 'orders', stage: 'canary', weight: 50, stepIndex: 1, paused: true })
    expect(before.holdReason).toMatch(/paused by|inconclusive|step 2 of 3/)

    // The human forms name the stage, weight and why it holds.
    const text = await cli(['status', 'orders', '--admin', first.admin], dir)
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain('orders: canary (paused), weight 50%, step 2/3 weight 50%')
    expect(text.stdout).toContain('holding: ')
    expect(text.stdout).toMatch(/#\d+ \S+ pause by anonymous/)
    const list = await cli(['status', '--admin', first.admin], dir)
    expect(list.stdout).toMatch(/^SYSTEM\s+STAGE\s+WEIGHT\s+STEP\s+HOLD\norders\s+canary \(paused\)\s+50%\s+2 /)

    first.child.kill('SIGKILL')
    await new Promise((r) => first!.child.once('exit', r))
    first = undefined

    const second = await up(dir)
    cleanup.push(async () => void second.child.kill('SIGKILL'))
    const after = JSON.parse((await cli(['status', 'orders', '--admin', second.admin, '--json'], dir)).stdout)
    expect(after).toMatchObject({ stage: 'canary', weight: 50, stepIndex: 1, paused: true })
    // It keeps going from there: resume is the next decision.
    const resumed = await cli(['resume', 'orders', '--admin', second.admin, '--json'], dir)
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0)
    await traffic(second.gateway, 20)
    second.child.kill('SIGKILL')
    await new Promise((r) => second.child.once('exit', r))

    const store = await openStore(`sqlite:${join(dir, 'tandem.db')}`)
    try {
      const state = await getState(store, 'orders')
      expect(state).toMatchObject({ stage: 'canary', weight: 50, stepIndex: 1, paused: false })
      const decisions = await listDecisions(store, 'orders')
      expect(decisions.map((d) => d.seq)).toEqual(decisions.map((_, i) => i + 1))
      const moves = decisions.filter((d) => d.action !== 'hold').map((d) => d.action)
      expect(moves).toEqual(['start', 'advance', 'pause', 'resume'])
      expect(decisions.find((d) => d.action === 'start')!.evidence).toMatchObject({ force: true })
    } finally {
      await store.close()
    }
  })

  it('reports an unreachable instance with its code and exit 2', async () => {
    const r = await cli(['status', '--admin', 'http://127.0.0.1:9', '--json'], tmpdir())
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error.code).toBe('TANDEM_ERR_ADMIN_UNREACHABLE')
  })
})
