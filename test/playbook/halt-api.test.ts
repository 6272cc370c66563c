// `tandem program halt|resume` as a user drives it: through the admin API and the real CLI, roles
// enforced (viewer reads, operator acts), every halt and resume audited with actor and reason; the
// halt is stored, so it survives a restart and every instance on a shared PostgreSQL store sees it.
import { afterEach, describe, expect, it } from 'vitest'
import { listAudit } from '../../src/store/audit.js'
import { assertNotHalted, haltProgram } from '../../src/program/halt.js'
import { openStore } from '../../src/store/open.js'
import { getProgramState } from '../../src/store/program-state.js'
import { call, startAdmin, TOKENS, type AdminHarness } from '../admin/harness.js'
import { tandem } from '../support/cli.js'
import { withPostgresSchema } from '../support/postgres.js'

let h: AdminHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

describe('program halt and resume over the admin API and the CLI', () => {
  it('lets a viewer read and an operator halt and resume, audited, refusing a second halt', async () => {
    h = await startAdmin()
    expect((await call(h.url, 'GET', '/api/v1/program', { token: TOKENS.viewer })).body).toMatchObject({
      halted: false,
    })
    const refused = await call(h.url, 'POST', '/api/v1/program/halt', { token: TOKENS.viewer, body: { reason: 'x' } })
    expect(refused.status).toBe(403)

    const halted = await call(h.url, 'POST', '/api/v1/program/halt', {
      token: TOKENS.operator,
      body: { reason: 'payments incident' },
    })
    expect(halted.status).toBe(200)
    expect(halted.body).toMatchObject({ halted: true, reason: 'payments incident', actor: 'otto', wave: null })
    const again = await call(h.url, 'POST', '/api/v1/program/halt', { token: TOKENS.operator, body: {} })
    expect(again.status).toBe(409)
    expect(again.body.code).toBe('TANDEM_ERR_PROGRAM_ALREADY_HALTED')
    const systems = await call(h.url, 'GET', '/api/v1/systems', { token: TOKENS.viewer })
    expect(systems.body.program).toMatchObject({ halted: true, reason: 'payments incident' })

    // The CLI, as a user runs it against the running instance.
    const status = await tandem(['program', 'status', '--admin', h.url, '--token', TOKENS.viewer])
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(/^halted: payments incident \(by otto at /)
    const resumed = await tandem([
      'program',
      'resume',
      '--admin',
      h.url,
      '--token',
      TOKENS.operator,
      '--reason',
      'incident closed',
    ])
    expect(resumed.code).toBe(0)
    expect(resumed.stdout).toBe('program resumed: incident closed\n')
    const notHalted = await tandem(['program', 'resume', '--admin', h.url, '--token', TOKENS.operator])
    expect(notHalted.code).toBe(2)
    expect(notHalted.stderr).toContain('TANDEM_ERR_PROGRAM_NOT_HALTED')
    expect(await getProgramState(h.store)).toMatchObject({ halted: false, reason: 'incident closed', actor: 'otto' })

    const audit = (await listAudit(h.store)).filter((e) => e.action.startsWith('program.')).reverse()
    expect(
      audit.map((e) => [e.action, e.actor, e.result, (e.params as { reason?: string | null }).reason ?? null]),
    ).toEqual([
      ['program.halt', 'vera', 'refused', null],
      ['program.halt', 'otto', 'ok', 'payments incident'],
      ['program.halt', 'otto', 'error', null],
      ['program.resume', 'otto', 'ok', 'incident closed'],
      ['program.resume', 'otto', 'error', null],
    ])
  })
})

describe('the halt on a shared PostgreSQL store', () => {
  it('is seen by every instance and survives a restart', async () => {
    const pg = await withPostgresSchema()
    try {
      const one = await openStore(pg.url)
      const two = await openStore(pg.url)
      await haltProgram(one, { actor: 'alice', role: 'operator', reason: 'drill' }, Date.UTC(2026, 0, 1))
      await expect(assertNotHalted(two, 'start', 'todo-api')).rejects.toMatchObject({
        code: 'TANDEM_ERR_PROGRAM_HALTED',
      })
      // Two instances halting at once: one wins, the other is told it is already halted.
      await expect(haltProgram(two, { actor: 'bob', role: 'operator' }, Date.UTC(2026, 0, 2))).rejects.toMatchObject({
        code: 'TANDEM_ERR_PROGRAM_ALREADY_HALTED',
      })
      await one.close()
      await two.close()
      const restarted = await openStore(pg.url)
      expect(await getProgramState(restarted)).toEqual({
        halted: true,
        reason: 'drill',
        actor: 'alice',
        wave: null,
        at: Date.UTC(2026, 0, 1),
      })
      await restarted.close()
    } finally {
      await pg.drop()
    }
  })
})
