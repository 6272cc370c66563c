// Must hold (issue 14): two systems of one wave whose candidates fail 30 % both roll back; the one whose
// legacy stays healthy gets `rollback-verified`, the one whose legacy fails right after the rollback
// gets `rollback-failed` and exactly one `emergency` webhook; with haltAfterRollbacks: 2 a third system
// of the wave cannot start until the program is resumed.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { resumeProgram } from '../../src/program/halt.js'
import { getProgramState } from '../../src/store/program-state.js'
import { getState, listDecisions } from '../../src/store/system-state.js'
import { listAudit } from '../../src/store/audit.js'
import { recentVerdicts } from '../../src/store/verdicts.js'
import { fastCanary } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { actionsOf, startRollout, type RolloutStack } from '../support/instance.js'
import { startReceiver, startService, trafficUntil, type Receiver, type Service } from '../support/loopback.js'

const opened: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close()
})

const system = (name: string, legacy: string, candidate: string, hook: string) =>
  fastCanary(name, legacy, candidate, {
    wave: 'pilot',
    routes: [{ path: `/${name}/**` }],
    hooks: { emergency: { webhook: hook } },
  })

async function setUp(): Promise<{ h: RolloutStack; legacyB: Service; receiver: Receiver; program: Receiver }> {
  const receiver = await startReceiver()
  const program = await startReceiver()
  const legacyB = await startService()
  opened.push(receiver, program, legacyB)
  const h = await startRollout(
    (legacy, candidate) => ({
      systems: [
        system('alpha', legacy, candidate, receiver.url),
        system('bravo', legacyB.url, candidate, receiver.url),
        system('charlie', legacy, candidate, receiver.url),
      ],
      waves: [{ name: 'pilot', systems: { names: ['alpha', 'bravo', 'charlie'] } }],
      program: { haltAfterRollbacks: 2 },
      notifications: [{ name: 'oncall', webhook: program.url, on: ['emergency', 'event'] }],
    }),
    { candidate: { failRate: 0.3 } },
  )
  opened.push(h)
  // bravo's legacy starts failing the moment bravo is rolled back onto it.
  h.controller.on('decision', (d) => {
    if (d.system === 'bravo' && d.action === 'rollback') {
      legacyB.behaviour.health = 503
      legacyB.behaviour.failRate = 1
    }
  })
  return { h, legacyB, receiver, program }
}

describe('verified rollback and the mass-failure halt', () => {
  it('verifies one rollback, escalates the other, halts the wave and resumes on request', async () => {
    const { h, receiver, program: oncall } = await setUp()
    await h.controller.act('alpha', 'start', { actor: 'alice' })
    await h.controller.act('bravo', 'start', { actor: 'alice' })
    const verified = async () => {
      const [a, b] = await Promise.all([actionsOf(h.store, 'alpha'), actionsOf(h.store, 'bravo')])
      return a.some((x) => x.startsWith('rollback-')) && b.some((x) => x.startsWith('rollback-'))
    }
    await trafficUntil(h.gatewayUrl, verified, { prefixes: ['alpha', 'bravo'] })
    expect(await verified()).toBe(true)

    const alpha = await actionsOf(h.store, 'alpha')
    const bravo = await actionsOf(h.store, 'bravo')
    expect(alpha.filter((a) => a.startsWith('rollback'))).toEqual(['rollback', 'rollback-verified'])
    expect(bravo.filter((a) => a.startsWith('rollback'))).toEqual(['rollback', 'rollback-failed'])

    // A failed verification moves no traffic: bravo stays on legacy.
    expect(await getState(h.store, 'bravo')).toMatchObject({ stage: 'rolled-back', weight: 0, activeArm: 'legacy' })
    expect(h.routing.get('bravo')).toMatchObject({ stage: 'rolled-back', weight: 0, activeArm: 'legacy' })
    const failed = (await listDecisions(h.store, 'bravo')).find((d) => d.action === 'rollback-failed')!
    expect(failed.reason).toMatch(/legacy health check failed: .* answered 503/)
    expect(failed.fromStage).toBe('rolled-back')
    expect(failed.toStage).toBe('rolled-back')

    expect(await eventually(() => receiver.received.some((p) => p.kind === 'emergency'))).toBe(true)

    // Status says so, and so does the failure report.
    expect((await h.controller.status('bravo')).holdReason).toMatch(/EMERGENCY: rollback failed/)
    expect((await h.controller.status('alpha')).holdReason).toMatch(/\[rollback verified/)
    // The verification is added to the report just after the decision is stored.
    const report = async () => {
      const files = (await readdir(join(h.dir, 'failures'))).filter(
        (f) => f.startsWith('bravo_') && f.endsWith('.json'),
      )
      expect(files).toHaveLength(1)
      return JSON.parse(await readFile(join(h.dir, 'failures', files[0]!), 'utf8'))
    }
    expect(await eventually(async () => (await report()).verification !== undefined)).toBe(true)
    expect((await report()).verification).toMatchObject({ result: 'rollback-failed' })

    // Two systems of wave pilot rolled back: the program is halted, stored, audited.
    expect(await eventually(async () => (await getProgramState(h.store)).halted)).toBe(true)
    const program = await getProgramState(h.store)
    expect(program).toMatchObject({ halted: true, actor: 'controller', wave: 'pilot' })
    expect(program.reason).toMatch(/2 systems of wave pilot rolled back \(alpha, bravo\)/)
    expect((await listAudit(h.store)).find((e) => e.action === 'program.halt')).toMatchObject({
      actor: 'controller',
      result: 'ok',
    })

    // charlie cannot start, not even with --force, until the program is resumed.
    for (const force of [false, true]) {
      await expect(h.controller.act('charlie', 'start', { actor: 'alice', force })).rejects.toMatchObject({
        code: 'TANDEM_ERR_PROGRAM_HALTED',
      })
    }
    await expect(h.controller.act('alpha', 'retry', { actor: 'alice' })).rejects.toMatchObject({
      code: 'TANDEM_ERR_PROGRAM_HALTED',
    })
    expect((await h.controller.status('charlie')).holdReason).toMatch(/^program halted: mass failure/)
    await resumeProgram(h.store, { actor: 'alice', role: 'operator', reason: 'bravo legacy restored' }, Date.now())
    const started = await h.controller.act('charlie', 'start', { actor: 'alice' })
    expect(started.state).toMatchObject({ stage: 'canary', weight: 50 })

    // Exactly one emergency webhook, for bravo, although bravo's legacy is still failing: several
    // analysis intervals have passed since (charlie has been judged meanwhile).
    await trafficUntil(h.gatewayUrl, async () => (await recentVerdicts(h.store, 'charlie', 3)).length >= 3, {
      prefixes: ['charlie'],
    })
    const emergencies = receiver.received.filter((p) => p.kind === 'emergency')
    expect(emergencies).toHaveLength(1)
    expect(emergencies[0]).toMatchObject({ system: 'bravo', stage: 'rolled-back' })
    expect(String(emergencies[0]!.text)).toContain('rollback-failed')
    expect((await actionsOf(h.store, 'bravo')).filter((a) => a === 'rollback-failed')).toHaveLength(1)
    // The program's notifications hear of the emergency once, and of the halt through the event hook.
    expect(oncall.received.filter((p) => p.kind === 'emergency').map((p) => p.system)).toEqual(['bravo'])
    expect(oncall.received.filter((p) => String(p.reason).startsWith('program halted: mass failure'))).toHaveLength(1)
  })
})
