// `dataDiff(options)`: the library form of `tandem data diff`. Opens both databases, plans the
// comparison, bisects, optionally re-checks differing keys under live writes, and summarises.
import { availableParallelism } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { TandemError } from '../errors.js'
import { bisect, type BisectStats } from './bisect.js'
import { checkKeys } from './key-check.js'
import { planDiff, type DiffPlan, type TableSelection } from './plan.js'
import { compareKeys, compareRows, toCanonRow, tupleOf, type DiffRow } from './rows.js'
import { openSource } from './open-source.js'
import type { DataSource } from './source.js'
import { rowsByKeyQuery, type KeyTuple } from './sql.js'

export interface DataDiffOptions extends TableSelection {
  readonly from: string
  readonly to: string
  /** Re-check differing keys up to this many times, reporting only differences that persist (default 0). */
  readonly recheck?: number
  /** Pause before each re-check (default 500 ms). */
  readonly recheckPauseMs?: number
  /** Segments per split (default 32). */
  readonly bisectionFactor?: number
  /** Download and compare rows of segments with at most this many rows (default 16384). */
  readonly bisectionThreshold?: number
  /**
   * `auto` (default) uses PostgreSQL's hash_record_extended when both sides are PostgreSQL 14+ with identical
   * types.
   */
  readonly hash?: 'auto' | 'portable'
  readonly onProgress?: (done: number, total: number) => void
  /**
   * Connections per side for the top-level checksum scan of an integer key, cut into that many parts
   * checksummed at once (default: the cores, at most 4; SQLite always 1, its queries are synchronous).
   */
  readonly parallel?: number
  /** Told the differing rows after the diff and after each re-check (before the next pause). */
  readonly onDifferences?: (rows: readonly DiffRow[], pass: number) => void | Promise<void>
}

export interface DataDiffSummary {
  readonly table: string
  readonly rowsFrom: number
  readonly rowsTo: number
  readonly onlyInFrom: number
  readonly onlyInTo: number
  readonly changed: number
  readonly durationMs: number
}

export interface DataDiffResult extends DataDiffSummary {
  /** Differences, ordered by key. */
  readonly rows: readonly DiffRow[]
  readonly stats: BisectStats & {
    readonly hash: 'record' | 'md5'
    readonly rechecks: number
    readonly transient: number
  }
}

export const DEFAULT_FACTOR = 32
export const DEFAULT_THRESHOLD = 16384

export async function dataDiff(options: DataDiffOptions): Promise<DataDiffResult> {
  const started = performance.now()
  const factor = options.bisectionFactor ?? DEFAULT_FACTOR
  const threshold = options.bisectionThreshold ?? DEFAULT_THRESHOLD
  if (!Number.isInteger(factor) || factor < 2)
    throw new TandemError('TANDEM_ERR_DATA_OPTION', {
      detail: `bisection factor must be an integer >= 2, got ${factor}`,
    })
  if (!Number.isInteger(threshold) || threshold < 1)
    throw new TandemError('TANDEM_ERR_DATA_OPTION', {
      detail: `bisection threshold must be a positive integer, got ${threshold}`,
    })
  const recheck = options.recheck ?? 0
  if (!Number.isInteger(recheck) || recheck < 0)
    throw new TandemError('TANDEM_ERR_DATA_OPTION', {
      detail: `--recheck must be a non-negative integer, got ${recheck}`,
    })

  const opened: DataSource[] = []
  try {
    const from = await openSource(options.from, { readonly: true })
    opened.push(from)
    const to = await openSource(options.to, { readonly: true })
    opened.push(to)
    const plan = await planDiff(from, to, options)
    await checkKeys(plan, { from: options.table, to: options.toTable ?? options.table })
    const fast = (options.hash ?? 'auto') === 'auto'
    const lanes = await openLanes(options, from, to, opened)
    const result = await bisect(plan, { factor, threshold, fast, onProgress: options.onProgress, lanes })
    let rows = result.rows
    let rechecks = 0
    await options.onDifferences?.(rows, 0)
    for (; rechecks < recheck && rows.length > 0; rechecks++) {
      await sleep(options.recheckPauseMs ?? 500)
      rows = await recheckRows(plan, rows)
      await options.onDifferences?.(rows, rechecks + 1)
    }
    const sorted = [...rows].sort((a, b) => compareKeys(plan, a, b))
    return {
      table: options.table,
      rowsFrom: result.rowsFrom,
      rowsTo: result.rowsTo,
      onlyInFrom: sorted.filter((r) => r.op === '-').length,
      onlyInTo: sorted.filter((r) => r.op === '+').length,
      changed: sorted.filter((r) => r.op === '~').length,
      durationMs: Math.round(performance.now() - started),
      rows: sorted,
      stats: {
        ...result.stats,
        hash: fast && plan.sameEngine ? 'record' : 'md5',
        rechecks,
        transient: result.rows.length - sorted.length,
      },
    }
  } finally {
    await Promise.allSettled(opened.map((s) => s.close()))
  }
}

/** Extra read-only connections per side for the parallel top-level scan (recorded in `opened` to be closed). */
async function openLanes(options: DataDiffOptions, from: DataSource, to: DataSource, opened: DataSource[]) {
  const n = options.parallel ?? Math.min(4, availableParallelism())
  if (!Number.isInteger(n) || n < 1)
    throw new TandemError('TANDEM_ERR_DATA_OPTION', { detail: `parallel must be a positive integer, got ${n}` })
  const more = async (url: string, first: DataSource): Promise<DataSource[]> => {
    const out = [first]
    if (first.dialect.name === 'sqlite') return out
    for (let i = 1; i < n; i++) {
      const s = await openSource(url, { readonly: true })
      opened.push(s)
      out.push(s)
    }
    return out
  }
  return { from: await more(options.from, from), to: await more(options.to, to) }
}

/** The summary fields only, as `tandem data diff --json` prints them. */
export function summaryOf(result: DataDiffResult): DataDiffSummary {
  const { table, rowsFrom, rowsTo, onlyInFrom, onlyInTo, changed, durationMs } = result
  return { table, rowsFrom, rowsTo, onlyInFrom, onlyInTo, changed, durationMs }
}

const BATCH = 200

/** Fetch the differing keys again from both sides; keep only rows that still differ (with fresh values). */
async function recheckRows(plan: DiffPlan, rows: readonly DiffRow[]): Promise<DiffRow[]> {
  const out: DiffRow[] = []
  for (let i = 0; i < rows.length; i += BATCH) {
    const keys: KeyTuple[] = rows.slice(i, i + BATCH).map((r) => tupleOf(plan, r))
    const [a, b] = await Promise.all([
      queryOrFail(plan.from.source, rowsByKeyQuery(plan.from, plan.keyCount, keys)),
      queryOrFail(plan.to.source, rowsByKeyQuery(plan.to, plan.keyCount, keys)),
    ])
    out.push(...compareRows(plan, a.map(toCanonRow), b.map(toCanonRow)))
  }
  return out
}

async function queryOrFail(source: DataSource, q: { sql: string; params: unknown[] }): Promise<unknown[][]> {
  try {
    return await source.query(q.sql, q.params)
  } catch (error) {
    throw new TandemError(
      'TANDEM_ERR_DATA_QUERY',
      { url: source.label, detail: (error as Error).message },
      { cause: error },
    )
  }
}
