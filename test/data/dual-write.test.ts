// dualWrite and shadowRead against real PostgreSQL (old) and MariaDB (new), and `tandem data reconcile`
// replaying the logged failures so that a data diff comes out clean.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dualWrite, shadowRead } from '../../src/index.js'
import { dataDiff } from '../../src/data/diff.js'
import { reconcile } from '../../src/data/reconcile.js'
import type { WriteOp } from '../../src/data/reconcile-log.js'
import { services, uniqueName } from '../support/services.js'

interface User {
  id: number
  name: string
}

describe('dualWrite, shadowRead and reconcile (PostgreSQL -> MariaDB)', () => {
  const table = uniqueName('dw').toLowerCase()
  const dir = mkdtempSync(join(tmpdir(), 'tandem-dw-'))
  let oldDb: pg.Client
  let newDb: mysql.Connection

  beforeAll(async () => {
    oldDb = new pg.Client({ connectionString: services.postgres })
    await oldDb.connect()
    newDb = await mysql.createConnection({ uri: services.mariadb, charset: 'utf8mb4' })
    await oldDb.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, name text NOT NULL)`)
    // The new store is narrower, so long names fail there: the secondary failures we want to see.
    await newDb.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(8) NOT NULL) CHARACTER SET utf8mb4`)
    await newDb.query(`SET SESSION sql_mode = 'STRICT_ALL_TABLES'`)
  })
  afterAll(async () => {
    await oldDb.query(`DROP TABLE IF EXISTS ${table}`)
    await newDb.query(`DROP TABLE IF EXISTS ${table}`)
    await oldDb.end()
    await newDb.end()
    rmSync(dir, { recursive: true, force: true })
  })

  const upsertOld = async (u: User): Promise<number> =>
    (
      await oldDb.query(
        `INSERT INTO ${table} (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name`,
        [u.id, u.name],
      )
    ).rowCount ?? 0
  const upsertNew = async (u: User): Promise<void> => {
    await newDb.query(`INSERT INTO ${table} (id, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name)`, [
      u.id,
      u.name,
    ])
  }
  const describeUpsert = (u: User): WriteOp => ({ op: 'upsert', table, key: { id: u.id }, row: { name: u.name } })

  it(
    'writes old then new, logs secondary failures without ' + 'telling the caller, and reconcile replays them',
    async () => {
      const log = join(dir, 'reconcile.jsonl')
      const failures: unknown[] = []
      const save = dualWrite(upsertOld, upsertNew, {
        log,
        describe: describeUpsert,
        onSecondaryError: (e) => failures.push(e),
      })
      for (let id = 1; id <= 20; id++)
        expect(await save({ id, name: id % 5 === 0 ? `a-much-longer-name-${id}` : `user${id}` })).toBe(1)
      await save.flush()
      expect(save.stats).toEqual({ writes: 20, secondaryFailures: 4 })
      expect(failures).toHaveLength(4)
      const lines = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(lines.map((l) => (l.key as { id: number }).id)).toEqual([5, 10, 15, 20])
      expect(lines[0]).toMatchObject({ op: 'upsert', table, key: { id: 5 }, row: { name: 'a-much-longer-name-5' } })

      const before = await dataDiff({ from: services.postgres, to: services.mariadb, table })
      expect(before.onlyInFrom).toBe(4)

      // Replaying onto the still-narrow table fails and says so, line by line.
      const failed = await reconcile({ log, to: services.mariadb })
      expect(failed.failed.map((f) => f.line)).toEqual([1, 2, 3, 4])

      await newDb.query(`ALTER TABLE ${table} MODIFY name VARCHAR(64) NOT NULL`)
      // The old store moved on since the failure: reconcile --from applies its current row.
      await upsertOld({ id: 10, name: 'renamed-after-failure' })
      await oldDb.query(`DELETE FROM ${table} WHERE id = 15`)
      const result = await reconcile({ log, to: services.mariadb, from: services.postgres })
      expect(result).toEqual({ entries: 4, applied: 4, skipped: 0, failed: [] })
      const after = await dataDiff({ from: services.postgres, to: services.mariadb, table })
      expect(after.rows).toEqual([])
      expect(after.rowsFrom).toBe(19)
    },
  )

  it(
    'never writes the new store when the old write fails, ' + 'and throws on secondary failure only when asked',
    async () => {
      const log = join(dir, 'strict.jsonl')
      let newCalls = 0
      const failingOld = dualWrite(
        async () => {
          throw new Error('old store down')
        },
        async () => {
          newCalls++
        },
        { log },
      )
      await expect(failingOld()).rejects.toThrow('old store down')
      expect(newCalls).toBe(0)
      expect(existsSync(log)).toBe(false)

      const strict = dualWrite(upsertOld, upsertNew, { log, describe: describeUpsert, throwOnSecondaryError: true })
      await expect(strict({ id: 100, name: 'x'.repeat(100) })).rejects.toMatchObject({
        code: 'TANDEM_ERR_DATA_SECONDARY_WRITE',
      })
      expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(1)
      // The old write still happened: the old store stays the source of truth.
      expect((await oldDb.query(`SELECT name FROM ${table} WHERE id = 100`)).rows).toEqual([{ name: 'x'.repeat(100) }])
    },
  )

  it('shadowRead returns the old result and reports mismatches and new-store errors on the side', async () => {
    await upsertOld({ id: 200, name: 'same' })
    await upsertNew({ id: 200, name: 'same' })
    await upsertOld({ id: 201, name: 'old' })
    await upsertNew({ id: 201, name: 'new' })
    const mismatches: Array<{ args: unknown[]; old: unknown; new: unknown }> = []
    const errors: unknown[] = []
    const logPath = join(dir, 'shadow.jsonl')
    const read = shadowRead(
      async (id: number) =>
        (await oldDb.query(`SELECT id, name FROM ${table} WHERE id = $1`, [id])).rows[0] as User | undefined,
      async (id: number) => {
        if (id === 999) throw new Error('new store timeout')
        const [rows] = await newDb.query(`SELECT id, name FROM ${table} WHERE id = ?`, [id])
        return (rows as User[])[0] ? { ...(rows as User[])[0] } : undefined
      },
      { onMismatch: (m) => mismatches.push(m), onError: (e) => errors.push(e), log: logPath },
    )
    expect(await read(200)).toEqual({ id: 200, name: 'same' })
    expect(await read(201)).toEqual({ id: 201, name: 'old' })
    expect(await read(999)).toBeUndefined()
    await read.flush()
    expect(read.stats).toEqual({ reads: 3, matches: 1, mismatches: 1, errors: 1 })
    expect(mismatches).toEqual([{ args: [201], old: { id: 201, name: 'old' }, new: { id: 201, name: 'new' } }])
    expect((errors[0] as Error).message).toBe('new store timeout')
    expect(JSON.parse(readFileSync(logPath, 'utf8').trim())).toMatchObject({
      args: [201],
      old: { name: 'old' },
      new: { name: 'new' },
    })
  })
})
