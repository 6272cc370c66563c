// Must hold: `kill -9` of `tandem up` in the middle of a canary loses nothing. After a restart the
// system is at the same stage, weight and step, and the decision log runs 1..n without gap or duplicate.
// Also drives the operator verbs and `tandem status` through the CLI and the admin API.
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { openStore } from '../../src/store/open.js'
import { getState, listDecisions } from '../../src/store/system-state.js'
import { tandem, type CliRun } from '../support/cli.js'
import { system, tandemConfig, writeConfig } from '../support/config.js'
import { startService, type Service } from '../support/loopback.js'
import { temporaryDir } from '../support/temp-dir.js'
import { spawnUp } from '../support/up.js'

/** Run a CLI verb in `cwd` with no token from the environment. */
const cli = (args: string[], cwd: string): Promise<CliRun> => tandem(args, cwd, { TANDEM_TOKEN: '' })

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
  it(
    'resumes the same stage, weight and step after kill -9, with a gapless decision log',
    { timeout: 300_000 },
    async () => {
      const dir = temporaryDir('tandem-restart-')
      const legacy: Service = await startService()
      const candidate: Service = await startService()
      cleanup.push(
        () => legacy.close(),
        () => candidate.close(),
      )
      const configFile = writeConfig(
        dir,
        tandemConfig({
          dir,
          systems: [
            system('orders', {
              legacy: legacy.url,
              candidate: candidate.url,
              rollout: { steps: [{ weight: 20, pause: '1h' }, { weight: 50, pause: '1h' }, { weight: 100 }] },
              // Sub-millisecond loopback latencies make the relative latency trigger noise;
              // this test is about restarts.
              analysis: { interval: '200ms', minSamples: 5, rollback: { latencyP95: 'off' } },
            }),
          ],
        }),
      )

      const first = await spawnUp(configFile)
      const admin = ['--admin', first.adminUrl, '--json']
      const started = await cli(['start', 'orders', '--force', ...admin], dir)
      expect(started.code, started.stdout + started.stderr).toBe(0)
      expect(JSON.parse(started.stdout)).toMatchObject({
        system: 'orders',
        action: 'start',
        state: { stage: 'canary', weight: 20, stepIndex: 0 },
      })
      const advanced = await cli(['advance', 'orders', ...admin], dir)
      expect(advanced.code, advanced.stdout + advanced.stderr).toBe(0)
      await traffic(first.gatewayUrl, 60)
      const paused = await cli(['pause', 'orders', '--reason', 'checking dashboards', ...admin], dir)
      expect(paused.code, paused.stdout + paused.stderr).toBe(0)
      // Verdicts accumulate while it is paused mid-canary.
      await traffic(first.gatewayUrl, 60)
      const status = await cli(['status', 'orders', ...admin], dir)
      expect(status.code, status.stdout + status.stderr).toBe(0)
      const before = JSON.parse(status.stdout)
      expect(before).toMatchObject({ name: 'orders', stage: 'canary', weight: 50, stepIndex: 1, paused: true })
      expect(before.holdReason).toMatch(/paused by|inconclusive|step 2 of 3/)

      // The human forms name the stage, weight and why it holds.
      const text = await cli(['status', 'orders', '--admin', first.adminUrl], dir)
      expect(text.code, text.stderr).toBe(0)
      expect(text.stdout).toContain('orders: canary (paused), weight 50%, step 2/3 weight 50%')
      expect(text.stdout).toContain('holding: ')
      expect(text.stdout).toMatch(/#\d+ \S+ pause by anonymous/)
      const list = await cli(['status', '--admin', first.adminUrl], dir)
      expect(list.stdout).toMatch(/^SYSTEM\s+STAGE\s+WEIGHT\s+STEP\s+HOLD\norders\s+canary \(paused\)\s+50%\s+2 /)

      await first.kill()

      const second = await spawnUp(configFile)
      const after = JSON.parse((await cli(['status', 'orders', '--admin', second.adminUrl, '--json'], dir)).stdout)
      expect(after).toMatchObject({ stage: 'canary', weight: 50, stepIndex: 1, paused: true })
      // It keeps going from there: resume is the next decision.
      const resumed = await cli(['resume', 'orders', '--admin', second.adminUrl, '--json'], dir)
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0)
      await traffic(second.gatewayUrl, 20)
      await second.kill()

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
    },
  )

  it('reports an unreachable instance with its code and exit 2', async () => {
    const r = await cli(['status', '--admin', 'http://127.0.0.1:9', '--json'], tmpdir())
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error.code).toBe('TANDEM_ERR_ADMIN_UNREACHABLE')
  })
})
