// What a data or event move does at each stage of the system it follows (SPEC 12, 13): which side is the
// source of truth and which sides are written. dualWrite, shadowRead and dualPublish take `{ system }`.
import { TandemError } from '../errors.js'
import type { Stage } from '../domain/stages.js'
import { FlagFollower, type FollowOptions } from './follow.js'

export interface MovePlan {
  /** The side whose result (or failure) the caller gets. */
  readonly authority: 'old' | 'new'
  readonly writeOld: boolean
  readonly writeNew: boolean
}

const OLD_ONLY: MovePlan = Object.freeze({ authority: 'old', writeOld: true, writeNew: false })
const OLD_FIRST: MovePlan = Object.freeze({ authority: 'old', writeOld: true, writeNew: true })
const NEW_FIRST: MovePlan = Object.freeze({ authority: 'new', writeOld: true, writeNew: true })
const NEW_ONLY: MovePlan = Object.freeze({ authority: 'new', writeOld: false, writeNew: true })

/**
 * pending: the old side only; shadow, canary and rolled-back (or the instance unreachable): the old side
 * is the source of truth and the new one is written too; promoted: the new side is the source of truth and
 * the old one is still written for the rollback window; completed: the old side has stopped.
 */
export function movePlan(stage: Stage | undefined): MovePlan {
  switch (stage) {
    case 'pending':
      return OLD_ONLY
    case 'promoted':
      return NEW_FIRST
    case 'completed':
      return NEW_ONLY
    default:
      return OLD_FIRST
  }
}

/** `{ system, admin, token? }` on a data or event helper: follow that system's flag. */
export interface FollowSystem {
  /** Follow this system's stage (a code, datastore or events system of the running instance). */
  readonly system?: string
  /** Its admin listener (required with `system`). */
  readonly admin?: string
  readonly token?: string
  readonly refreshMs?: number
  /** A follower to share between helpers instead of `system` + `admin`. */
  readonly flag?: FlagFollower
}

/** The follower the options ask for, or undefined when they follow no system. */
export function followerOf(options: FollowSystem, what: string): FlagFollower | undefined {
  if (options.flag !== undefined) return options.flag
  if (options.system === undefined) return undefined
  if (options.admin === undefined)
    throw new TandemError('TANDEM_ERR_USAGE', {
      detail: `${what}({ system }) needs \`admin\`: the URL of the instance's admin listener`,
    })
  const follow: FollowOptions = {
    admin: options.admin,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs }),
  }
  return new FlagFollower(options.system, follow)
}
