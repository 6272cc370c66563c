// data diff across engine pairs: exactly the injected differences are reported, nothing else, with
// scale-different decimals, microsecond timestamps, NULL/''/'NULL', unicode, string and composite keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dataDiff, type DataDiffResult } from '../../src/data/diff.js'
import {
  accounts,
  accountsCase,
  items,
  itemsCase,
  load,
  type Engine,
  type Expected,
  type LoadedTable,
} from './fixture.js'

const PAIRS: Array<[Engine, Engine]> = [
  ['postgres', 'postgres'],
  ['postgres', 'mariadb'],
  ['postgres', 'sqlite'],
  ['mariadb', 'sqlite'],
]

function reported(result: DataDiffResult, key: (k: Record<string, string | number>) => string): Expected[] {
  return result.rows.map((r) => ({ op: r.op, key: key(r.key) })).sort(byKey)
}
const byKey = (a: Expected, b: Expected): number =>
  a.op + a.key < b.op + b.key ? -1 : a.op + a.key > b.op + b.key ? 1 : 0

describe.each(PAIRS)('data diff %s -> %s', (fromEngine, toEngine) => {
  const acc = accountsCase(3000)
  const it_ = itemsCase(400)
  const tables: LoadedTable[] = []
  let accFrom: LoadedTable
  let accTo: LoadedTable
  let itemsFrom: LoadedTable
  let itemsTo: LoadedTable

  beforeAll(async () => {
    accFrom = await load(fromEngine, accounts, acc.from)
    accTo = await load(toEngine, accounts, acc.to)
    itemsFrom = await load(fromEngine, items, it_.from)
    itemsTo = await load(toEngine, items, it_.to)
    tables.push(accFrom, accTo, itemsFrom, itemsTo)
  })
  afterAll(async () => {
    await Promise.allSettled(tables.map((t) => t.drop()))
  })

  it('reports exactly the injected differences on an integer key (default bisection)', async () => {
    const result = await dataDiff({ from: accFrom.url, to: accTo.url, table: accFrom.table, toTable: accTo.table })
    expect(reported(result, (k) => String(k.id))).toEqual([...acc.expected].sort(byKey))
    expect(result.rowsFrom).toBe(3000)
    expect(result.rowsTo).toBe(3000)
    expect([result.onlyInFrom, result.onlyInTo, result.changed]).toEqual([2, 2, 10])
    const changed21 = result.rows.find((r) => r.key.id === 21)
    expect(changed21?.columns).toEqual(['created_at'])
    const changed20 = result.rows.find((r) => r.key.id === 20)
    expect(changed20?.from?.amount).toBe('7.4')
    expect(changed20?.to?.amount).toBe('7.41')
  })

  it('finds the same differences when bisection recurses with small segments', async () => {
    const result = await dataDiff({
      from: accFrom.url,
      to: accTo.url,
      table: accFrom.table,
      toTable: accTo.table,
      bisectionFactor: 4,
      bisectionThreshold: 40,
      hash: 'portable',
    })
    expect(reported(result, (k) => String(k.id))).toEqual([...acc.expected].sort(byKey))
    expect(result.stats.maxDepth).toBeGreaterThan(2)
    expect(result.stats.hash).toBe('md5')
    // Only segments that contain a difference are downloaded: far fewer rows than the table.
    expect(result.stats.rowsDownloaded).toBeLessThan(3000)
  })

  it('compares on a composite string key in binary order', async () => {
    const result = await dataDiff({
      from: itemsFrom.url,
      to: itemsTo.url,
      table: itemsFrom.table,
      toTable: itemsTo.table,
      bisectionFactor: 4,
      bisectionThreshold: 20,
    })
    expect(reported(result, (k) => `${k.tenant}|${k.sku}`)).toEqual([...it_.expected].sort(byKey))
    expect(result.stats.maxDepth).toBeGreaterThan(1)
  })

  it('compares on a single string key chosen with --key and a column subset', async () => {
    const result = await dataDiff({
      from: itemsFrom.url,
      to: itemsTo.url,
      table: itemsFrom.table,
      toTable: itemsTo.table,
      key: ['sku'],
      columns: ['tenant', 'qty', 'note'],
      bisectionFactor: 8,
      bisectionThreshold: 30,
    })
    expect(reported(result, (k) => String(k.sku))).toEqual([...it_.expectedBySku].sort(byKey))
  })

  it('finds nothing when comparing a table with itself, and honours --where', async () => {
    const same = await dataDiff({ from: accFrom.url, to: accFrom.url, table: accFrom.table })
    expect(same.rows).toEqual([])
    expect(same.rowsFrom).toBe(3000)
    const limited = await dataDiff({
      from: accFrom.url,
      to: accTo.url,
      table: accFrom.table,
      toTable: accTo.table,
      where: 'id > 22 AND id <= 3000',
    })
    expect(reported(limited, (k) => String(k.id))).toEqual(
      [
        { op: '~' as const, key: '23' },
        { op: '~' as const, key: '24' },
        { op: '-' as const, key: '25' },
        { op: '-' as const, key: '26' },
      ].sort(byKey),
    )
  })
})
