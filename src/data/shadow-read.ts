// shadowRead: read both stores, return the old store's result at once, and compare the new store's
// result on the side, reporting mismatches and errors through callbacks and an optional JSONL log.
import { isDeepStrictEqual } from 'node:util'
import { ReconciliationLog, jsonSafe } from './reconcile-log.js'
import { followerOf, type FollowSystem } from '../flags/move.js'
import type { FlagFollower } from '../flags/follow.js'

export interface ShadowMismatch<A extends unknown[], R> {
  readonly args: A
  readonly old: R
  readonly new: unknown
}

/**
 * With `{ system, admin, key }` the reader follows that system's stage: the old store serves until the
 * system's flag gives a key the candidate (canary by weight, promoted), then the new store serves and the
 * old one is read on the side; completed reads only the new store; pending only the old one.
 */
export interface ShadowReadOptions<A extends unknown[], R> extends FollowSystem {
  /** The stickiness key of a read (with `system`), e.g. the row key. */
  readonly key?: (...args: A) => string
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
  /** The flag followed (with `{ system }`). */
  readonly flag: FlagFollower | undefined
  close(): void
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
  const equal =
    options.compare ?? ((a: R, b: unknown) => isDeepStrictEqual(jsonSafe(normalize(a)), jsonSafe(normalize(b))))

  const flag = followerOf(options, 'shadowRead')
  const reader = async (...args: A): Promise<R> => {
    if (flag !== undefined) {
      const stage = flag.stage
      if (stage === 'pending') return oldRead(...args)
      if (stage === 'completed') return (await newRead(...args)) as R
      const arm = flag.choose(() => options.key?.(...args)).arm
      // The new store serves this key: the old one is read on the side and compared the same way.
      if (arm === 'candidate') return compared(() => newRead(...args) as Promise<R>, oldRead, args, true)
    }
    return compared(oldRead, newRead, args, false)
  }
  /** Serve from `serve`, compare `side` off the caller's path; `fromNew` says which store served. */
  const compared = async (
    serve: (...args: A) => Promise<R>,
    side: (...args: A) => Promise<unknown>,
    args: A,
    fromNew: boolean,
  ): Promise<R> => {
    const [oldRead, newRead] = [serve, side]
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
        const pair = fromNew ? { old: newResult as R, new: oldResult as unknown } : { old: oldResult, new: newResult }
        options.onMismatch?.({ args, ...pair })
        await log?.append({ time: new Date().toISOString(), args, ...pair })
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
    flag,
    close: () => flag?.close(),
    flush: async () => {
      while (pending.size > 0) await Promise.all([...pending])
    },
  })
}
