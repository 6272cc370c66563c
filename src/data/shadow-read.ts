// shadowRead: read both stores, return the old store's result at once, and compare the new store's
// result on the side, reporting mismatches and errors through callbacks and an optional JSONL log.
import { isDeepStrictEqual } from 'node:util'
import { ReconciliationLog, jsonSafe } from './reconcile-log.js'

export interface ShadowMismatch<A extends unknown[], R> {
  readonly args: A
  readonly old: R
  readonly new: unknown
}

export interface ShadowReadOptions<A extends unknown[], R> {
  /** Equality of the two results; default: deep equality after `normalize`. */
  readonly compare?: (oldResult: R, newResult: unknown) => boolean
  /** Applied to both results before the default comparison (e.g. to unify driver types). */
  readonly normalize?: (value: unknown) => unknown
  readonly onMismatch?: (mismatch: ShadowMismatch<A, R>) => void
  /** The new store failed; the caller never sees this. */
  readonly onError?: (error: unknown, args: A) => void
  /** JSONL file each mismatch is appended to as `{ time, args, old, new }`. */
  readonly log?: string
}

export interface ShadowReader<A extends unknown[], R> {
  (...args: A): Promise<R>
  readonly stats: { reads: number; matches: number; mismatches: number; errors: number }
  /** Wait until every pending comparison has finished (e.g. before shutdown or in tests). */
  flush(): Promise<void>
}

export function shadowRead<A extends unknown[], R>(
  oldRead: (...args: A) => Promise<R>,
  newRead: (...args: A) => Promise<unknown>,
  options: ShadowReadOptions<A, R> = {},
): ShadowReader<A, R> {
  const stats = { reads: 0, matches: 0, mismatches: 0, errors: 0 }
  const pending = new Set<Promise<void>>()
  const log = options.log ? new ReconciliationLog(options.log) : undefined
  const normalize = options.normalize ?? ((v: unknown) => v)
  const equal = options.compare ?? ((a: R, b: unknown) => isDeepStrictEqual(jsonSafe(normalize(a)), jsonSafe(normalize(b))))

  const reader = async (...args: A): Promise<R> => {
    // Started together so the shadow adds no latency; its outcome is handled off the caller's path.
    const shadow = Promise.resolve().then(() => newRead(...args))
    // Marked handled now: the shadow may fail before the old read returns; its error is reported below.
    shadow.catch(() => {})
    const oldResult = await oldRead(...args)
    stats.reads++
    const done = shadow.then(
      async (newResult) => {
        if (equal(oldResult, newResult)) {
          stats.matches++
          return
        }
        stats.mismatches++
        options.onMismatch?.({ args, old: oldResult, new: newResult })
        await log?.append({ time: new Date().toISOString(), args, old: oldResult, new: newResult })
      },
      (error: unknown) => {
        stats.errors++
        options.onError?.(error, args)
      },
    )
    const tracked = done.catch(() => {}).finally(() => pending.delete(tracked))
    pending.add(tracked)
    return oldResult
  }
  return Object.assign(reader, {
    stats,
    flush: async () => {
      while (pending.size > 0) await Promise.all([...pending])
    },
  })
}
