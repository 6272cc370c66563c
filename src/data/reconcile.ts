// `tandem data reconcile`: replay the failed secondary writes of a reconciliation log onto the new
// store, in log order; with --from, the current row is re-read from the old store (source of truth).
import { TandemError } from '../errors.js'
import { readReconcileLog, type ReconcileEntry, type WriteOp } from './reconcile-log.js'
import { openSource } from './open-source.js'
import type { DataSource } from './source.js'

export interface ReconcileOptions {
  readonly log: string
  /** The new store the writes are replayed onto. */
  readonly to: string
  /** The old store: when given, each logged key is re-read from it and its current row (or absence) is applied. */
  readonly from?: string
}

export interface ReconcileResult {
  readonly entries: number
  readonly applied: number
  /** Entries without a replayable operation (logged without `describe`). */
  readonly skipped: number
  readonly failed: ReadonlyArray<{ line: number; error: string }>
}

export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const entries = await readReconcileLog(options.log)
  const opened: DataSource[] = []
  try {
    const to = await openSource(options.to)
    opened.push(to)
    const from = options.from ? await openSource(options.from, { readonly: true }) : undefined
    if (from) opened.push(from)
    let applied = 0
    let skipped = 0
    const failed: Array<{ line: number; error: string }> = []
    for (const { line, entry } of entries) {
      const op = replayable(entry)
      if (!op) {
        skipped++
        continue
      }
      try {
        await apply(to, from ? await current(from, op) : op)
        applied++
      } catch (error) {
        failed.push({ line, error: error instanceof Error ? error.message : String(error) })
      }
    }
    return { entries: entries.length, applied, skipped, failed }
  } finally {
    await Promise.allSettled(opened.map((s) => s.close()))
  }
}

function replayable(entry: ReconcileEntry): WriteOp | undefined {
  if (
    (entry.op !== 'upsert' && entry.op !== 'delete') ||
    typeof entry.table !== 'string' ||
    !entry.key ||
    typeof entry.key !== 'object'
  )
    return undefined
  if (entry.op === 'upsert' && (!entry.row || typeof entry.row !== 'object')) return undefined
  return { op: entry.op, table: entry.table, key: entry.key, row: entry.row }
}

/** The old store's current state of the row: an upsert of what is there, or a delete when it is gone. */
async function current(from: DataSource, op: WriteOp): Promise<WriteOp> {
  const info = await from.describe(op.table)
  if (!info) throw new TandemError('TANDEM_ERR_DATA_TABLE_MISSING', { table: op.table, url: from.label })
  const d = from.dialect
  const keys = Object.keys(op.key)
  const where = keys.map((k, i) => `${d.quote(k)} = ${d.placeholder(i + 1)}`).join(' AND ')
  const names = info.columns.map((c) => c.name)
  const rows = await from.query(
    `SELECT ${names.map((n) => d.quote(n)).join(', ')} FROM ${d.quote(op.table, true)} WHERE ${where}`,
    keys.map((k) => op.key[k]),
  )
  const row = rows[0]
  if (!row) return { op: 'delete', table: op.table, key: op.key }
  return { op: 'upsert', table: op.table, key: op.key, row: Object.fromEntries(names.map((n, i) => [n, row[i]])) }
}

async function apply(to: DataSource, op: WriteOp): Promise<void> {
  const d = to.dialect
  const keys = Object.keys(op.key)
  const value = (v: unknown): unknown => bindable(to, v)
  if (op.op === 'delete') {
    const where = keys.map((k, i) => `${d.quote(k)} = ${d.placeholder(i + 1)}`).join(' AND ')
    await to.execute(
      `DELETE FROM ${d.quote(op.table, true)} WHERE ${where}`,
      keys.map((k) => value(op.key[k])),
    )
    return
  }
  const row = { ...op.key, ...op.row }
  const cols = Object.keys(row)
  await to.execute(
    d.upsert(
      d.quote(op.table, true),
      keys.map((k) => d.quote(k)),
      cols.map((c) => d.quote(c)),
    ),
    cols.map((c) => value(row[c])),
  )
}

/** SQLite binds neither booleans nor Dates; the other drivers take JSON values as they are. */
function bindable(to: DataSource, v: unknown): unknown {
  if (to.dialect.name !== 'sqlite') return v
  if (typeof v === 'boolean') return v ? 1 : 0
  if (v instanceof Date) return v.toISOString()
  return v
}
