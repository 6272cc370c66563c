// dualWrite: the authoritative store first, then the other; a failed second write is appended to the
// reconciliation log (old-side misses are also replayed to the old store after a rollback).
import { TandemError } from '../errors.js'
import { ReconciliationLog, type WriteOp } from './reconcile-log.js'
import { followerOf, movePlan, type FollowSystem } from '../flags/move.js'
import type { FlagFollower } from '../flags/follow.js'

/** With `{ system, admin }` the writer follows that system's stage (see movePlan in src/flags/move.ts). */
export interface DualWriteOptions<A extends unknown[]> extends FollowSystem {
  /** The reconciliation log: a JSONL file path, or a shared ReconciliationLog. */
  readonly log: string | ReconciliationLog
  /** Describe a call as an upsert or delete so `tandem data reconcile` can replay it. */
  readonly describe?: (...args: A) => WriteOp
  /** Throw TANDEM_ERR_DATA_SECONDARY_WRITE when the new store's write fails (it is still logged). Default false. */
  readonly throwOnSecondaryError?: boolean
  /** Told about every failed secondary write, after it is logged. */
  readonly onSecondaryError?: (error: unknown, args: A) => void
}

export interface DualWriter<A extends unknown[], R> {
  (...args: A): Promise<R>
  /** Counts since creation. */
  readonly stats: { writes: number; secondaryFailures: number }
  /** Old-side writes missed while promoted: still queued, and replayed to the old side since. */
  readonly replay: { readonly pending: number; readonly replayed: number }
  /** Replay now the old-side writes that failed while the new side was authoritative (see below). */
  replayOld(): Promise<void>
  /** Wait until every log append has reached the file. */
  flush(): Promise<void>
  /** The flag followed (with `{ system }`). */
  readonly flag: FlagFollower | undefined
  /** Stop following the flag. */
  close(): void
}

/**
 * Wrap two writers taking the same arguments. The old store's result (or error) is what the caller
 * gets; the new store is written only after the old one succeeded.
 */
export function dualWrite<A extends unknown[], R>(
  oldWrite: (...args: A) => Promise<R>,
  newWrite: (...args: A) => Promise<unknown>,
  options: DualWriteOptions<A>,
): DualWriter<A, R> {
  const log = typeof options.log === 'string' ? new ReconciliationLog(options.log) : options.log
  const stats = { writes: 0, secondaryFailures: 0 }
  let replayed = 0
  const flag = followerOf(options, 'dualWrite')
  // Old-side writes that failed while promoted (also in the log), in order: replayed to the old side as
  // soon as it is authoritative again (a rollback), and before any write is served from it.
  const missedOld: A[] = []
  let replaying: Promise<void> | undefined
  const replayOld = (): Promise<void> =>
    (replaying ??= (async () => {
      while (missedOld.length > 0) {
        await oldWrite(...missedOld[0]!)
        missedOld.shift()
        replayed++
      }
    })().finally(() => (replaying = undefined)))
  flag?.onChange((s) => {
    if (movePlan(s?.routing.stage).authority === 'old') replayOld().catch(() => {})
  })
  const writer = async (...args: A): Promise<R> => {
    // Without a system: the old store is the source of truth, the new one is always written.
    const plan = movePlan(flag === undefined ? 'shadow' : flag.stage)
    if (plan.authority === 'old' && missedOld.length > 0) await replayOld()
    const [first, second] =
      plan.authority === 'old'
        ? [oldWrite, plan.writeNew ? newWrite : undefined]
        : [newWrite, plan.writeOld ? oldWrite : undefined]
    const result = (await first(...args)) as R
    stats.writes++
    if (second === undefined) return result
    try {
      await second(...args)
    } catch (error) {
      stats.secondaryFailures++
      if (second === oldWrite) missedOld.push(args)
      const message = error instanceof Error ? error.message : String(error)
      const op = describeSafely(options.describe, args)
      const time = new Date().toISOString()
      const side = second === oldWrite ? 'old' : 'new'
      const entry = op ? { time, side, ...op, error: message } : { time, side, args, error: message }
      await log.append(entry)
      options.onSecondaryError?.(error, args)
      if (options.throwOnSecondaryError) {
        throw new TandemError('TANDEM_ERR_DATA_SECONDARY_WRITE', { detail: message, log: log.path }, { cause: error })
      }
    }
    return result
  }
  const replay = {
    get pending() {
      return missedOld.length
    },
    get replayed() {
      return replayed
    },
  }
  return Object.assign(writer, { stats, replay, replayOld, flush: () => log.flush(), flag, close: () => flag?.close() })
}

/** A describe callback that throws must not turn a logged failure into a lost one: fall back to the arguments. */
function describeSafely<A extends unknown[]>(
  describe: ((...args: A) => WriteOp) | undefined,
  args: A,
): WriteOp | undefined {
  if (!describe) return undefined
  try {
    return describe(...args)
  } catch {
    return undefined
  }
}
