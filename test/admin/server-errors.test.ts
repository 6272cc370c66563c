// Regression tests for issue 12, defect 6 (admin side): a store damaged under a running admin API
// answered uncoded 500s and nothing was logged (fastify's logger is off). Every 5xx is now logged
// through pino, and a damaged SQLite file is named in a coded error.
import { statSync } from 'node:fs'
import { sql } from 'kysely'
import pino from 'pino'
import { afterEach, expect, it } from 'vitest'
import { sqliteFile } from '../../src/store/open.js'
import { recordDecision } from '../../src/store/system-state.js'
import { damage } from '../support/store-damage.js'
import { call, startAdmin, TOKENS, type AdminHarness } from './harness.js'

let h: AdminHarness | undefined
afterEach(async () => {
  await h?.close().catch(() => undefined)
  h = undefined
})

/** A real pino logger whose lines are kept in memory. */
function captured(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const logger = pino({ name: 'tandem-admin' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
  return { logger, lines }
}

it('answers a store damaged while serving with a coded 500 naming the file, and logs it', async () => {
  const log = captured()
  h = await startAdmin({ server: { logger: log.logger } })
  let version = 0
  for (let i = 0; i < 100; i++)
    version = (
      await recordDecision(
        h.store,
        'todo-api',
        version,
        { weight: i },
        { action: 'advance', actor: 't', reason: 'x'.repeat(300) },
      )
    ).state.version
  await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(h.store.db)
  const file = sqliteFile(h.store.url)!
  damage(file, 4096, statSync(file).size - 4096)
  // Drop the pages SQLite keeps in memory so the next query reads the damaged file.
  await sql`PRAGMA shrink_memory`.execute(h.store.db)

  const res = await call(h.url, 'GET', '/api/v1/systems/todo-api/decisions', { token: TOKENS.viewer })
  expect(res.status).toBe(500)
  expect(res.body.code).toBe('TANDEM_ERR_STORE_CORRUPT')
  expect(res.body.message).toContain(file)
  const line = log.lines.find((l) => l.code === 'TANDEM_ERR_STORE_CORRUPT')
  expect(line).toMatchObject({ level: 50, method: 'GET', url: '/api/v1/systems/todo-api/decisions' })
  expect(line!.msg).toContain(file)
})

it('logs an unexpected failure with its stack and answers TANDEM_ERR_ADMIN_INTERNAL', async () => {
  const log = captured()
  h = await startAdmin({ server: { logger: log.logger } })
  await h.store.close() // the store goes away under the API
  const res = await call(h.url, 'GET', '/api/v1/systems', { token: TOKENS.viewer })
  expect(res.status).toBe(500)
  expect(res.body.code).toBe('TANDEM_ERR_ADMIN_INTERNAL')
  const line = log.lines.find((l) => l.code === 'TANDEM_ERR_ADMIN_INTERNAL')
  expect(line).toMatchObject({ level: 50, method: 'GET', url: '/api/v1/systems' })
  expect((line!.err as { stack: string }).stack).toContain('Error')
})

it('does not log 4xx answers', async () => {
  const log = captured()
  h = await startAdmin({ server: { logger: log.logger } })
  expect((await call(h.url, 'GET', '/api/v1/systems')).status).toBe(401)
  expect((await call(h.url, 'GET', '/api/v1/systems/nope', { token: TOKENS.viewer })).status).toBe(404)
  expect(log.lines).toEqual([])
})
