// Counts the lines appended to a failure log (dualWrite's reconciliation log, dualPublish's replay log,
// shadowRead's mismatch log) since a byte offset, with a capped sample of what each line names.
import { open } from 'node:fs/promises'

export interface LogTail {
  readonly count: number
  /** The byte offset after the last complete line read. */
  readonly offset: number
  /** Up to `cap` keys or ids named by the new lines. */
  readonly sample: readonly unknown[]
}

/** The file's size now: where counting starts for a new run (earlier failures belong to earlier runs). */
export async function logEnd(file: string | undefined): Promise<number> {
  if (file === undefined) return 0
  try {
    const handle = await open(file, 'r')
    try {
      return (await handle.stat()).size
    } finally {
      await handle.close()
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw error
  }
}

/** Lines appended after `offset`; a partial last line is left for the next call. Truncation restarts at 0. */
export async function readLogTail(
  file: string,
  offset: number,
  cap: number,
  name: (entry: Record<string, unknown>) => unknown,
): Promise<LogTail> {
  let text: Buffer
  try {
    const handle = await open(file, 'r')
    try {
      const size = (await handle.stat()).size
      const from = size < offset ? 0 : offset
      text = Buffer.alloc(size - from)
      await handle.read(text, 0, text.length, from)
      offset = from
    } finally {
      await handle.close()
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { count: 0, offset: 0, sample: [] }
    throw error
  }
  const end = text.lastIndexOf(0x0a) + 1
  const lines = text
    .subarray(0, end)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
  const sample: unknown[] = []
  for (const line of lines) {
    if (sample.length >= cap) break
    try {
      sample.push(name(JSON.parse(line) as Record<string, unknown>))
    } catch {
      sample.push(line.slice(0, 200))
    }
  }
  return { count: lines.length, offset: offset + end, sample }
}
