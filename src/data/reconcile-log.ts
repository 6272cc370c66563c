// The reconciliation log: a JSONL file of secondary writes that failed during dual-write, one
// replayable operation per line, appended in order and read back by `tandem data reconcile`.
import { appendFile, readFile } from 'node:fs/promises'
import { TandemError } from '../errors.js'

/** A write in a form any store can replay: upsert a row or delete it, by key. */
export interface WriteOp {
  readonly op: 'upsert' | 'delete'
  /** Table in the new store (schema.table allowed). */
  readonly table: string
  /** Key columns and values that identify the row. */
  readonly key: Readonly<Record<string, unknown>>
  /** For upsert: every column to write, key columns included or not. */
  readonly row?: Readonly<Record<string, unknown>>
}

/** One line of the log: the operation (when the writer described it), or only the call's arguments. */
export interface ReconcileEntry extends Partial<WriteOp> {
  readonly time: string
  readonly error: string
  /** The side whose write failed (dualWrite following a system: `old` while the new side is authoritative). */
  readonly side?: 'old' | 'new'
  /** The original call's arguments, when no `describe` was given (not replayable). */
  readonly args?: readonly unknown[]
}

/** JSON that survives a round trip: bigint as text, Buffers as hex, Dates as ISO text. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (Buffer.isBuffer(value)) return value.toString('hex')
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map(jsonSafe)
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]))
  return value
}

export class ReconciliationLog {
  private tail: Promise<void> = Promise.resolve()

  constructor(readonly path: string) {}

  /** Append one entry; appends are serialised so lines keep the order of the failures. */
  append(entry: ReconcileEntry | Readonly<Record<string, unknown>>): Promise<void> {
    const line = `${JSON.stringify(jsonSafe(entry))}\n`
    const next = this.tail.then(() => appendFile(this.path, line, 'utf8'))
    this.tail = next.catch(() => {})
    return next
  }

  /** Wait for every pending append. */
  flush(): Promise<void> {
    return this.tail
  }
}

/** Read a log; a line that is not JSON is an error naming the line. */
export async function readReconcileLog(path: string): Promise<Array<{ line: number; entry: ReconcileEntry }>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new TandemError(
      'TANDEM_ERR_DATA_LOG',
      { file: path, line: 0, detail: (error as Error).message },
      { cause: error },
    )
  }
  const out: Array<{ line: number; entry: ReconcileEntry }> = []
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return
    try {
      out.push({ line: i + 1, entry: JSON.parse(raw) as ReconcileEntry })
    } catch (error) {
      throw new TandemError('TANDEM_ERR_DATA_LOG', { file: path, line: i + 1, detail: (error as Error).message })
    }
  })
  return out
}
