import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import { openStore, type Store } from '../store/open.js'
import { getState, recordDecision } from '../store/system-state.js'
import type { Stage } from '../domain/stages.js'
import { startGate, waveOf, waveStatus } from './gates.js'

const PROGRAM = `
version: 1
defaults:
  legacy: { url: http://127.0.0.1:9 }
  candidate: { url: http://127.0.0.1:9 }
  routes: [{ path: /** }]
systems:
  - { name: a, priority: P0 }
  - { name: b, priority: P0 }
  - { name: c, priority: P1, category: api }
  - { name: d, priority: P1, category: api }
  - { name: e, priority: P2, wave: pilot }
  - { name: f, priority: P4 }
waves:
  - { name: pilot, systems: { priority: [P0] } }
  - { name: expansion, systems: { priority: [P1] }, maxConcurrent: 1 }
`

async function setStage(store: Store, system: string, stage: Stage): Promise<void> {
  const s = await getState(store, system)
  await recordDecision(store, system, s.version, { stage }, { action: 'test', actor: 'test', reason: `to ${stage}` })
}

describe('waves', () => {
  const config = parseConfig(PROGRAM)

  it('puts a system in its explicit wave, else the first wave whose selector matches, else none', () => {
    expect(waveOf(config, 'a')?.name).toBe('pilot')
    expect(waveOf(config, 'c')?.name).toBe('expansion')
    expect(waveOf(config, 'e')?.name).toBe('pilot')
    expect(waveOf(config, 'f')).toBeUndefined()
  })

  it('counts systems by stage and keeps a wave closed until earlier waves are promoted or completed', () => {
    const status = waveStatus(config, [
      { system: 'a', stage: 'promoted' },
      { system: 'b', stage: 'canary' },
    ])
    expect(status.map((w) => w.systems)).toEqual([
      ['a', 'b', 'e'],
      ['c', 'd'],
    ])
    expect(status[0]!.counts).toMatchObject({ promoted: 1, canary: 1, pending: 1 })
    expect(status[0]!.open).toBe(true)
    expect(status[1]!.open).toBe(false)
    expect(status[1]!.reason).toContain('b (pilot, canary)')
    expect(status[1]!.reason).toContain('e (pilot, pending)')
  })
})

describe('startGate', () => {
  let store: Store
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-gate-'))
    store = await openStore(`sqlite:${join(dir, 't.db')}`)
  })
  afterEach(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('refuses a system whose previous wave is not promoted, then allows it once it is', async () => {
    const config = parseConfig(PROGRAM)
    await setStage(store, 'a', 'promoted')
    await setStage(store, 'b', 'canary')
    const refused = await startGate(config, store, 'c', {})
    expect(refused.allowed).toBe(false)
    expect(refused.reasons.join('\n')).toMatch(
      /wave expansion is closed: waiting for b \(pilot, canary\), e \(pilot, pending\)/,
    )

    const forced = await startGate(config, store, 'c', { force: true })
    expect(forced.allowed).toBe(true)
    expect(forced.reasons.length).toBeGreaterThan(0)

    await setStage(store, 'b', 'promoted')
    await setStage(store, 'e', 'completed')
    const allowed = await startGate(config, store, 'c', {})
    expect(allowed.reasons).toEqual([])
    expect(allowed.allowed).toBe(true)
  })

  it('refuses beyond maxConcurrent active systems in the wave', async () => {
    const config = parseConfig(PROGRAM)
    for (const s of ['a', 'b', 'e']) await setStage(store, s, 'promoted')
    await setStage(store, 'c', 'shadow')
    const gate = await startGate(config, store, 'd', {})
    expect(gate.allowed).toBe(false)
    expect(gate.reasons[0]).toContain('maxConcurrent is 1')
  })

  it('refuses on a failing configured check, persists every result with its output', async () => {
    const plan = join(dir, 'plan.md')
    await writeFile(plan, '')
    const withChecklist = PROGRAM.replace(
      '  - { name: f, priority: P4 }\n',
      `  - name: f\n    priority: P4\n    checklist:\n      rollbackPlan: { file: ${plan} }\n      tests: { command:` +
        ` "echo all green" }\n`,
    )
    const config = parseConfig(withChecklist)
    const gate = await startGate(config, store, 'f', {})
    expect(gate.allowed).toBe(false)
    expect(gate.reasons).toEqual([expect.stringContaining('checklist rollbackPlan failed: ')])
    expect(gate.reasons[0]).toContain('is empty')
    const tests = gate.checks.find((c) => c.check === 'tests')!
    expect(tests.status).toBe('pass')
    expect(tests.output).toContain('all green')
    expect(gate.checks.find((c) => c.check === 'backup')!.status).toBe('not-configured')

    const rows = await store.db.selectFrom('checklist_results').selectAll().where('system', '=', 'f').execute()
    expect(rows.map((r) => r.check).sort()).toEqual([
      'backup',
      'dependencies',
      'monitoring',
      'notify',
      'rollbackPlan',
      'tests',
    ])
    expect(rows.find((r) => r.check === 'rollbackPlan')).toMatchObject({ ok: 0, configured: 1 })

    await writeFile(plan, '1. set weight 0\n')
    expect((await startGate(config, store, 'f', {})).allowed).toBe(true)
  })
})
