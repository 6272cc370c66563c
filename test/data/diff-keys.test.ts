// Regression (issue 12, defect 8): `data diff` on a key that is not an enforced primary key said "equal"
// when rows had a NULL key or shared a key. Both are now coded errors (exit 2) naming the side's table,
// the key and the offending values, on PostgreSQL, MariaDB and SQLite, on either side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tandem } from '../support/cli.js'
import { load, type Engine, type LoadedTable, type Row, type TableSpec } from './fixture.js'

const noKey: TableSpec = {
  columns: ['k', 'v'],
  key: ['k'],
  ddl: {
    postgres: `(k integer, v text)`,
    mariadb: `(k INT, v VARCHAR(100)) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    sqlite: `(k INTEGER, v TEXT)`,
  },
  encode: (_engine, r) => [r.k, r.v],
}

const base: Row[] = Array.from({ length: 200 }, (_, i) => ({ k: i + 1, v: `v${i + 1}` }))

interface ErrorOut {
  error: { code: string; message: string; details: Record<string, unknown> }
}

async function diff(
  from: LoadedTable,
  to: LoadedTable,
  extra: string[] = [],
): Promise<{ code: number | null; out: ErrorOut }> {
  const r = await tandem([
    'data',
    'diff',
    '--from',
    from.url,
    '--to',
    to.url,
    '--table',
    from.table,
    '--to-table',
    to.table,
    '--key',
    'k',
    '--json',
    ...extra,
  ])
  return { code: r.code, out: JSON.parse(r.stdout) as ErrorOut }
}

describe.each<Engine>(['postgres', 'mariadb', 'sqlite'])(
  'data diff key check on %s',
  { timeout: 120_000 },
  (engine) => {
    const tables: LoadedTable[] = []
    let clean: LoadedTable
    let nullX: LoadedTable
    let nullY: LoadedTable
    let dupA: LoadedTable
    let dupB: LoadedTable

    beforeAll(async () => {
      clean = await load(engine, noKey, base, 'dk_clean')
      // Same non-NULL rows, but the NULL-key rows differ: the diff used to skip them and say "equal".
      nullX = await load(engine, noKey, [...base, { k: null, v: 'x' }, { k: null, v: 'x2' }], 'dk_nullx')
      nullY = await load(engine, noKey, [...base, { k: null, v: 'y' }], 'dk_nully')
      // Key 7 on two rows with different values on each side; key 9 three times on the first.
      dupA = await load(engine, noKey, [...base, { k: 7, v: 'a' }, { k: 9, v: 'a' }, { k: 9, v: 'b' }], 'dk_dupa')
      dupB = await load(engine, noKey, [...base, { k: 7, v: 'b' }], 'dk_dupb')
      tables.push(clean, nullX, nullY, dupA, dupB)
    })
    afterAll(async () => {
      await Promise.allSettled(tables.map((t) => t.drop()))
    })

    it('refuses NULL keys on the from side with TANDEM_ERR_DATA_KEY_NULL naming the table and the count', async () => {
      const { code, out } = await diff(nullX, nullY)
      expect(code).toBe(2)
      expect(out.error.code).toBe('TANDEM_ERR_DATA_KEY_NULL')
      expect(out.error.details).toMatchObject({ table: nullX.table, key: ['k'], nullRows: 2 })
      expect(out.error.message).toContain(nullX.table)
      expect(out.error.message).toContain('--where "k IS NOT NULL"')
    })

    it('refuses NULL keys on the to side', async () => {
      const { code, out } = await diff(clean, nullY)
      expect(code).toBe(2)
      expect(out.error.code).toBe('TANDEM_ERR_DATA_KEY_NULL')
      expect(out.error.details).toMatchObject({ table: nullY.table, nullRows: 1 })
    })

    it('diffs the rows left once NULL keys are excluded explicitly with --where', async () => {
      const r = await tandem([
        'data',
        'diff',
        '--from',
        nullX.url,
        '--to',
        nullY.url,
        '--table',
        nullX.table,
        '--to-table',
        nullY.table,
        '--key',
        'k',
        '--where',
        'k IS NOT NULL',
        '--json',
      ])
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ rowsFrom: 200, rowsTo: 200, changed: 0 })
    })

    it('refuses duplicate keys on the from side with TANDEM_ERR_DATA_KEY_DUPLICATE and a sample of them', async () => {
      const { code, out } = await diff(dupA, dupB)
      expect(code).toBe(2)
      expect(out.error.code).toBe('TANDEM_ERR_DATA_KEY_DUPLICATE')
      expect(out.error.details).toMatchObject({
        table: dupA.table,
        key: ['k'],
        duplicateKeys: 2,
        sample: [
          { key: { k: '9' }, rows: 3 },
          { key: { k: '7' }, rows: 2 },
        ],
      })
      expect(out.error.message).toContain('k="9" on 3 rows')
    })

    it('refuses duplicate keys on the to side', async () => {
      const { code, out } = await diff(clean, dupB)
      expect(code).toBe(2)
      expect(out.error.code).toBe('TANDEM_ERR_DATA_KEY_DUPLICATE')
      expect(out.error.details).toMatchObject({
        table: dupB.table,
        duplicateKeys: 1,
        sample: [{ key: { k: '7' }, rows: 2 }],
      })
    })
  },
)

describe('data diff key check on a SQLite primary key', () => {
  it('refuses NULLs in a non-INTEGER SQLite primary key, which SQLite accepts', async () => {
    const textPk: TableSpec = { ...noKey, ddl: { ...noKey.ddl, sqlite: `(k TEXT PRIMARY KEY, v TEXT)` } }
    const a = await load(
      'sqlite',
      textPk,
      [
        { k: 'a', v: '1' },
        { k: null, v: '2' },
      ],
      'dk_pk',
    )
    const b = await load(
      'sqlite',
      textPk,
      [
        { k: 'a', v: '1' },
        { k: null, v: '3' },
      ],
      'dk_pk',
    )
    try {
      const r = await tandem([
        'data',
        'diff',
        '--from',
        a.url,
        '--to',
        b.url,
        '--table',
        a.table,
        '--to-table',
        b.table,
        '--json',
      ])
      expect(r.code).toBe(2)
      expect((JSON.parse(r.stdout) as ErrorOut).error.code).toBe('TANDEM_ERR_DATA_KEY_NULL')
    } finally {
      await Promise.allSettled([a.drop(), b.drop()])
    }
  })
})
