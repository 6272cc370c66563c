// Property test across the dialect encoders: random rows loaded into PostgreSQL, MariaDB and SQLite
// diff as equal on every pair, and random changes are reported exactly where the values differ.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalText } from '../../src/data/canonical.js'
import { dataDiff } from '../../src/data/diff.js'
import { load, type Engine, type LoadedTable, type Row, type TableSpec } from './fixture.js'

const spec: TableSpec = {
  columns: ['id', 'label', 'amount', 'at', 'flag'],
  key: ['id'],
  ddl: {
    postgres: `(id integer PRIMARY KEY, label text, amount numeric(14,2), at timestamp(6), flag boolean)`,
    mariadb:
      `(id INT PRIMARY KEY, label TEXT, amount DECIMAL(16,5), at DATETIME(6), flag TINYINT(1)) ` +
      `CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    sqlite: `(id INTEGER PRIMARY KEY, label TEXT, amount DECIMAL(16,5), at DATETIME, flag BOOLEAN)`,
  },
  encode: (engine, r) => [
    r.id,
    r.label,
    r.amount,
    r.at,
    engine === 'postgres' || r.flag === null ? r.flag : r.flag ? 1 : 0,
  ],
}

const kinds = {
  label: { family: 'text', precision: 6 },
  amount: { family: 'decimal', precision: 6 },
  at: { family: 'timestamp', precision: 6 },
  flag: { family: 'bool', precision: 6 },
} as const

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')
const label = fc.oneof(
  fc.constant(null),
  fc.constant(''),
  fc.constant('NULL'),
  fc.string({ unit: 'binary', maxLength: 12 }).map((s) => s.replaceAll('\u0000', '')),
  fc.string({ unit: 'grapheme-composite', maxLength: 6 }),
)
const amount = fc.option(
  fc.bigInt({ min: -(10n ** 11n), max: 10n ** 11n }).map((c) => {
    const neg = c < 0n
    const d = (neg ? -c : c).toString().padStart(3, '0')
    return `${neg ? '-' : ''}${d.slice(0, -2)}.${d.slice(-2)}`
  }),
  { nil: null },
)
const at = fc.option(
  fc.integer({ min: Date.UTC(1971, 0, 1) / 1000, max: Date.UTC(2099, 0, 1) / 1000 }).chain((s) =>
    fc.integer({ min: 0, max: 999_999 }).map((us) => {
      const d = new Date(s * 1000)
      return (
        `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
        `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(us, 6)}`
      )
    }),
  ),
  { nil: null },
)
const flag = fc.option(fc.boolean(), { nil: null })
const values = fc.record({ label, amount, at, flag })

const ENGINES: Engine[] = ['postgres', 'mariadb', 'sqlite']
const PAIRS: Array<[Engine, Engine]> = [
  ['postgres', 'mariadb'],
  ['postgres', 'sqlite'],
  ['mariadb', 'sqlite'],
]

describe('canonical encoding across PostgreSQL, MariaDB and SQLite', () => {
  it(
    'equal values diff as equal and different values as different on every engine pair',
    { timeout: 300_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(values, values), { minLength: 1, maxLength: 60 }), async (pairs) => {
          const from: Row[] = pairs.map(([a], i) => ({ id: i + 1, ...a }))
          const to: Row[] = pairs.map(([, b], i) => ({ id: i + 1, ...b }))
          // The JavaScript encoder is the oracle: a row differs where some column's canonical text differs.
          const expected = to
            .filter((r, i) =>
              (Object.keys(kinds) as Array<keyof typeof kinds>).some(
                (c) => canonicalText(kinds[c], r[c]) !== canonicalText(kinds[c], from[i]?.[c]),
              ),
            )
            .map((r) => r.id)
          const loaded: LoadedTable[] = []
          try {
            const fromTables = new Map<Engine, LoadedTable>()
            const toTables = new Map<Engine, LoadedTable>()
            for (const e of ENGINES) {
              const f = await load(e, spec, from, 'pf')
              loaded.push(f)
              fromTables.set(e, f)
              const t = await load(e, spec, to, 'pt')
              loaded.push(t)
              toTables.set(e, t)
            }
            for (const [x, y] of PAIRS) {
              const a = fromTables.get(x) as LoadedTable
              const b = toTables.get(y) as LoadedTable
              const same = await dataDiff({
                from: a.url,
                to: (fromTables.get(y) as LoadedTable).url,
                table: a.table,
                toTable: (fromTables.get(y) as LoadedTable).table,
              })
              expect(same.rows, `${x} vs ${y}: equal values`).toEqual([])
              const diff = await dataDiff({ from: a.url, to: b.url, table: a.table, toTable: b.table })
              expect(
                diff.rows.map((r) => r.key.id),
                `${x} vs ${y}: different values`,
              ).toEqual(expected)
            }
          } finally {
            await Promise.allSettled(loaded.map((t) => t.drop()))
          }
        }),
        { numRuns: 8 },
      )
    },
  )
})
