// The key check before a data diff: checksum-and-bisect places every row by its key, so a NULL key
// (no position in the key order) or a key shared by several rows (rows that cannot be told apart)
// would make different tables look equal. Either is a coded error naming the table, key and values.
import { TandemError } from '../errors.js'
import type { DiffPlan, SidePlan } from './plan.js'
import { toCanonRow } from './rows.js'
import { duplicateKeysQuery, nullKeyCountQuery } from './sql.js'

/** Duplicate keys shown in the message (the count covers all of them). */
const SAMPLE = 5

async function run(side: SidePlan, q: { sql: string; params: unknown[] }): Promise<unknown[][]> {
  try {
    return await side.source.query(q.sql, q.params)
  } catch (error) {
    throw new TandemError(
      'TANDEM_ERR_DATA_QUERY',
      { url: side.source.label, detail: (error as Error).message },
      { cause: error },
    )
  }
}

/**
 * Fail when a side's key has NULLs or duplicates (within --where). A side whose key is its enforced
 * primary key is not queried; any other side costs one count of NULL keys and one GROUP BY on the key.
 */
export async function checkKeys(plan: DiffPlan, tables: { readonly from: string; readonly to: string }): Promise<void> {
  const sides = [
    { side: plan.from, table: tables.from },
    { side: plan.to, table: tables.to },
  ].filter((s) => !s.side.keyUnique)
  if (sides.length === 0) return
  const keyOf = (side: SidePlan): string =>
    side.cols
      .slice(0, plan.keyCount)
      .map((c) => c.info.name)
      .join(',')

  const nulls = await Promise.all(
    sides.map(async (s) => Number((await run(s.side, nullKeyCountQuery(s.side, plan.keyCount)))[0]?.[0] ?? 0)),
  )
  for (const [i, s] of sides.entries()) {
    const count = nulls[i] ?? 0
    if (count === 0) continue
    const key = keyOf(s.side)
    const exclude = s.side.cols
      .slice(0, plan.keyCount)
      .map((c) => `${c.info.name} IS NOT NULL`)
      .join(' AND ')
    throw new TandemError(
      'TANDEM_ERR_DATA_KEY_NULL',
      {
        count,
        table: s.table,
        url: s.side.source.label,
        key,
        exclude: plan.from.where ? `(${plan.from.where}) AND ${exclude}` : exclude,
      },
      { details: { table: s.table, url: s.side.source.label, key: key.split(','), nullRows: count } },
    )
  }

  const dups = await Promise.all(sides.map((s) => run(s.side, duplicateKeysQuery(s.side, plan.keyCount, SAMPLE))))
  for (const [i, s] of sides.entries()) {
    const rows = dups[i] ?? []
    if (rows.length === 0) continue
    const total = Number(rows[0]?.[plan.keyCount + 1] ?? rows.length)
    const sample = rows.map((r) => {
      const values = toCanonRow(r.slice(0, plan.keyCount))
      const names = s.side.cols.slice(0, plan.keyCount).map((c) => c.info.name)
      return { key: Object.fromEntries(names.map((n, k) => [n, values[k] ?? null])), rows: Number(r[plan.keyCount]) }
    })
    const shown = sample
      .map(
        (d) =>
          `${Object.entries(d.key)
            .map(([n, v]) => `${n}=${JSON.stringify(v)}`)
            .join(' ')} on ${d.rows} rows`,
      )
      .join('; ')
    const key = keyOf(s.side)
    throw new TandemError(
      'TANDEM_ERR_DATA_KEY_DUPLICATE',
      {
        count: total,
        table: s.table,
        url: s.side.source.label,
        key,
        sample: total > sample.length ? `${shown}; ...` : shown,
      },
      { details: { table: s.table, url: s.side.source.label, key: key.split(','), duplicateKeys: total, sample } },
    )
  }
}
