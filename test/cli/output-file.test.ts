// Regression tests for issue 12, defect 12: `--output` to an unwritable path ended with
// TANDEM_ERR_INTERNAL and a stack trace (after the whole diff had run). It is now a coded error naming
// the path, raised before the work starts, and an earlier file is only replaced by a complete one.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tandem } from '../support/cli.js'
import { tandemConfig, writeConfig } from '../support/config.js'

const dir = mkdtempSync(join(tmpdir(), 'tandem-output-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function table(file: string, rows: Array<[number, string]>): void {
  const db = new SQLite(file)
  db.exec('CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)')
  const insert = db.prepare('INSERT INTO people (id, name) VALUES (?, ?)')
  for (const r of rows) insert.run(...r)
  db.close()
}

describe('tandem data diff --output', () => {
  const from = join(dir, 'from.db')
  const to = join(dir, 'to.db')
  const diff = (output: string) =>
    tandem([
      'data',
      'diff',
      '--from',
      `sqlite:${from}`,
      '--to',
      `sqlite:${to}`,
      '--table',
      'people',
      '--output',
      output,
    ])
  beforeAll(() => {
    table(from, [
      [1, 'ada'],
      [2, 'bob'],
    ])
    table(to, [
      [1, 'ada'],
      [2, 'rob'],
    ])
  })

  it('refuses a path in a missing directory with a coded error naming it', async () => {
    const r = await diff('/nonexistent/dir/rows.jsonl')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('error TANDEM_ERR_OUTPUT_WRITE')
    expect(r.stderr).toContain('/nonexistent/dir/rows.jsonl')
    expect(r.stderr).not.toContain('TANDEM_ERR_INTERNAL')
  })

  it('refuses a directory as the output file', async () => {
    const target = join(dir, 'a-directory')
    mkdirSync(target)
    const r = await diff(target)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('TANDEM_ERR_OUTPUT_WRITE')
    expect(r.stderr).toContain(target)
  })

  it('writes the rows, replacing an earlier file, and leaves no partial file', async () => {
    const out = join(dir, 'rows.jsonl')
    writeFileSync(out, 'earlier run\n')
    const r = await diff(out)
    expect(r.code).toBe(1)
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { op: string; key: unknown })
    expect(rows).toMatchObject([{ op: '~', key: { id: 2 } }])
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([])
  })
})

it('tandem report --output to a missing directory is a coded error naming the path', async () => {
  const config = writeConfig(dir, tandemConfig({ store: `sqlite:${join(dir, 'report.db')}`, systems: [] }))
  const r = await tandem(['report', '-c', config, '--output', '/nonexistent/dir/x.md'])
  expect(r.code).toBe(2)
  expect(r.stderr).toContain('error TANDEM_ERR_REPORT_WRITE')
  expect(r.stderr).toContain('/nonexistent/dir/x.md')
})
