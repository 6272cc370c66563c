// One verification window of a datastore system: the changed rows of every table compared across both
// databases, and on its schedule a full checksum-and-bisect diff for rows changed without updatedAt.
import type { SystemConfig } from '../config/schema.js'
import { dataDiff } from '../data/diff.js'
import { checkMoveTable, verifyChangedRows } from '../data/changed-rows.js'
import { planDiff } from '../data/plan.js'
import type { DiffRow } from '../data/rows.js'
import { openSource } from '../data/open-source.js'
import type { DataSource } from '../data/source.js'

export type DatastoreConfig = NonNullable<SystemConfig['datastore']>

export interface TableFinding {
  readonly table: string
  readonly rowsChecked: number
  readonly differing: number
  /** The differing keys with their op (`-` only in from, `+` only in to, `~` changed), capped. */
  readonly keys: readonly { readonly op: DiffRow['op']; readonly key: DiffRow['key'] }[]
  readonly full: boolean
}

export interface DatastoreWindow {
  readonly rowsChecked: number
  readonly mismatches: number
  readonly tables: readonly TableFinding[]
}

/** Compare the rows changed in [since, until) in every table, plus a full diff of each when `full`. */
export async function verifyDatastoreWindow(
  ds: DatastoreConfig,
  since: number,
  until: number,
  full: boolean,
  cap: number,
): Promise<DatastoreWindow> {
  const opened: DataSource[] = []
  try {
    const from = await openSource(ds.from, { readonly: true })
    opened.push(from)
    const to = await openSource(ds.to, { readonly: true })
    opened.push(to)
    const tables: TableFinding[] = []
    for (const t of ds.tables) {
      const selection = { table: t.name, key: t.key, columns: t.columns, where: t.where }
      const plan = await planDiff(from, to, selection)
      await checkMoveTable(plan, t.updatedAt)
      const changed = await verifyChangedRows(plan, t.updatedAt, since, until)
      tables.push(finding(t.name, changed.rowsChecked, changed.rows, false, cap))
      if (full) {
        // Live writes make a full diff see in-flight rows: a difference must persist past the lag to count.
        const diff = await dataDiff({ from: ds.from, to: ds.to, ...selection, recheck: 1, recheckPauseMs: ds.lag })
        tables.push(finding(t.name, diff.rowsFrom, diff.rows, true, cap))
      }
    }
    return {
      rowsChecked: tables.reduce((n, t) => n + t.rowsChecked, 0),
      mismatches: tables.reduce((n, t) => n + t.differing, 0),
      tables,
    }
  } finally {
    await Promise.allSettled(opened.map((s) => s.close()))
  }
}

function finding(
  table: string,
  rowsChecked: number,
  rows: readonly DiffRow[],
  full: boolean,
  cap: number,
): TableFinding {
  return {
    table,
    rowsChecked,
    differing: rows.length,
    keys: rows.slice(0, cap).map((r) => ({ op: r.op, key: r.key })),
    full,
  }
}
