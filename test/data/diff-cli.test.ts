// `tandem data diff` driven through bin/tandem.js as a user (or a datastore checklist) runs it:
// renamed tables and columns, JSON summary, JSONL rows, exit codes 0/1/2, --recheck and recursion stats.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tandem } from '../support/cli.js'
import { dataDiff } from '../../src/data/diff.js'
import { services, uniqueName } from '../support/services.js'
import { runMaria, runPg } from './fixture.js'

describe('tandem data diff (CLI)', { timeout: 180_000 }, () => {
  const oldT = uniqueName('cli_old').toLowerCase()
  const newT = uniqueName('cli_new').toLowerCase()
  const dir = mkdtempSync(join(tmpdir(), 'tandem-data-cli-'))

  beforeAll(async () => {
    await runPg(`CREATE TABLE ${oldT} (id bigint PRIMARY KEY, full_name text, balance numeric(12,2))`)
    await runPg(`INSERT INTO ${oldT} SELECT g, 'user ' || g, g * 1.5 FROM generate_series(1, 2000) g`)
    // The new schema renamed the table and a column, and stores the balance at a different scale.
    await runMaria(
      `CREATE TABLE ${newT} (id BIGINT PRIMARY KEY, name VARCHAR(100), balance DECIMAL(14,4)) CHARACTER SET utf8mb4`,
    )
    const rows = Array.from({ length: 2000 }, (_, i) => [i + 1, `user ${i + 1}`, ((i + 1) * 1.5).toFixed(4)])
    await runMaria(`INSERT INTO ${newT} (id, name, balance) VALUES ?`, [rows])
  })
  afterAll(async () => {
    await runPg(`DROP TABLE IF EXISTS ${oldT}`)
    await runMaria(`DROP TABLE IF EXISTS ${newT}`)
    rmSync(dir, { recursive: true, force: true })
  })

  /** `tandem data diff` between the two sides' tables (each side's name: --table, then --to-table). */
  const between = (...tables: string[]): string[] => [
    'data',
    'diff',
    '--from',
    services.postgres,
    '--to',
    services.mariadb,
    '--table',
    tables[0]!,
    ...(tables[1] === undefined ? [] : ['--to-table', tables[1]]),
  ]
  const base = (): string[] => [...between(oldT, newT), '--map', 'full_name=name']

  it('exits 0 with a JSON summary when the tables hold the same data', async () => {
    const r = await tandem([...base(), '--json'])
    expect(r.code).toBe(0)
    const summary = JSON.parse(r.stdout) as Record<string, unknown>
    expect(summary).toMatchObject({ table: oldT, rowsFrom: 2000, rowsTo: 2000, onlyInFrom: 0, onlyInTo: 0, changed: 0 })
    expect(typeof summary.durationMs).toBe('number')
  })

  it('exits 1 and writes the differing rows as JSONL to --output', async () => {
    await runMaria(`UPDATE ${newT} SET name = 'renamed' WHERE id = 77`)
    await runMaria(`DELETE FROM ${newT} WHERE id = 1500`)
    await runMaria(`INSERT INTO ${newT} (id, name, balance) VALUES (5000, 'extra', 1)`)
    const out = join(dir, 'rows.jsonl')
    const r = await tandem([...base(), '--json', '--output', out])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({ onlyInFrom: 1, onlyInTo: 1, changed: 1 })
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(rows).toEqual([
      {
        op: '~',
        key: { id: 77 },
        from: { id: '77', full_name: 'user 77', balance: '115.5' },
        to: { id: '77', full_name: 'renamed', balance: '115.5' },
        columns: ['full_name'],
      },
      { op: '-', key: { id: 1500 }, from: { id: '1500', full_name: 'user 1500', balance: '2250' }, to: null },
      { op: '+', key: { id: 5000 }, from: null, to: { id: '5000', full_name: 'extra', balance: '1' } },
    ])
    // Without --json and --output the rows go to stdout as JSONL.
    const plain = await tandem(base())
    expect(plain.code).toBe(1)
    expect(plain.stdout.trim().split('\n')).toHaveLength(3)
    expect(plain.stderr).toContain('1 changed')
  })

  it('exits 2 with coded errors for a missing table, a missing column and an unsupported URL', async () => {
    const missing = await tandem([...between(`${oldT}_nope`), '--json'])
    expect(missing.code).toBe(2)
    expect(JSON.parse(missing.stdout).error.code).toBe('TANDEM_ERR_DATA_TABLE_MISSING')
    const column = await tandem([...between(oldT, newT), '--json'])
    expect(column.code).toBe(2)
    expect(JSON.parse(column.stdout).error.code).toBe('TANDEM_ERR_DATA_COLUMN_MISSING')
    const url = await tandem(['data', 'diff', '--from', 'oracle://x', '--to', services.mariadb, '--table', oldT])
    expect(url.code).toBe(2)
    expect(url.stderr).toContain('TANDEM_ERR_DATA_URL')
  })
})

describe('data diff --recheck and recursion', () => {
  const a = uniqueName('big_a').toLowerCase()
  const b = uniqueName('big_b').toLowerCase()
  beforeAll(async () => {
    for (const t of [a, b]) {
      await runPg(`CREATE TABLE ${t} (id integer PRIMARY KEY, v text, n numeric(10,2))`)
      await runPg(`INSERT INTO ${t} SELECT g, md5(g::text), g % 1000 FROM generate_series(1, 600000) g`)
    }
    await runPg(`UPDATE ${b} SET v = 'changed' WHERE id IN (17, 300001, 599999)`)
    await runPg(`DELETE FROM ${b} WHERE id = 420000`)
  })
  afterAll(async () => {
    await runPg(`DROP TABLE IF EXISTS ${a}`)
    await runPg(`DROP TABLE IF EXISTS ${b}`)
  })

  it('recurses with the default 32-way split and 16384-row threshold on 600 000 rows', async () => {
    const r = await dataDiff({ from: services.postgres, to: services.postgres, table: a, toTable: b })
    expect(r.rows.map((x) => [x.op, x.key.id])).toEqual([
      ['~', 17],
      ['~', 300001],
      ['-', 420000],
      ['~', 599999],
    ])
    // One grouped scan per side computes three bisection levels (32^3 leaves of 19 keys); the tree is
    // walked in memory and only the four differing leaves are downloaded, on both sides.
    expect(r.stats.checksumQueries).toBe(1)
    expect(r.stats.maxDepth).toBe(3)
    expect(r.stats.segmentsDiffering).toBe(3 * 4)
    expect(r.stats.rowsDownloaded).toBeLessThanOrEqual(4 * 2 * 19)
    expect(r.stats.hash).toBe('record')
  })

  it('scans a differing leaf again when it is larger than the threshold', async () => {
    // Factor 2: 2^15 leaves of 19 keys per scan; with threshold 1 each differing leaf gets its own grouped scan.
    const r = await dataDiff({
      from: services.postgres,
      to: services.postgres,
      table: a,
      toTable: b,
      bisectionFactor: 2,
      bisectionThreshold: 1,
    })
    expect(r.rows.map((x) => [x.op, x.key.id])).toEqual([
      ['~', 17],
      ['~', 300001],
      ['-', 420000],
      ['~', 599999],
    ])
    expect(r.stats.checksumQueries).toBe(1 + 4)
    expect(r.stats.maxDepth).toBeGreaterThan(15)
    expect(r.stats.rowsDownloaded).toBeLessThanOrEqual(4 * 2)
  })

  it('reports only differences that persist across re-checks', async () => {
    const passes: number[] = []
    const r = await dataDiff({
      from: services.postgres,
      to: services.postgres,
      table: a,
      toTable: b,
      where: 'id <= 50000',
      recheck: 2,
      recheckPauseMs: 50,
      onDifferences: async (rows, pass) => {
        passes.push(rows.length)
        // An in-flight write lands after the first pass: id 17 catches up, nothing else changes.
        if (pass === 0) await runPg(`UPDATE ${b} SET v = md5('17') WHERE id = 17`)
      },
    })
    expect(passes[0]).toBe(1)
    expect(r.rows).toEqual([])
    expect(r.stats.transient).toBe(1)
    await runPg(`UPDATE ${b} SET v = 'changed' WHERE id = 17`)
    const persistent = await dataDiff({
      from: services.postgres,
      to: services.postgres,
      table: a,
      toTable: b,
      where: 'id <= 50000',
      recheck: 2,
      recheckPauseMs: 10,
    })
    expect(persistent.rows.map((x) => x.key.id)).toEqual([17])
    expect(persistent.stats.rechecks).toBe(2)
  })
})
