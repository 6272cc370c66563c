// The lock that keeps two `tandem up` off one SQLite file (SPEC 11): both would run the controller
// and every verdict would be taken twice. `FILE.lock` beside the store holds the owner's pid; it is
// created atomically (link(2) of a fully written temporary file), and a lock whose pid is dead is
// taken over. Workers of one `tandem up` share the primary's lock; read-only verbs take none.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { TandemError } from '../errors.js'

export interface StoreLock {
  readonly file: string
  release(): void
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function holderOf(lock: string): { text: string; pid: number | undefined } | undefined {
  let text: string
  try {
    text = readFileSync(lock, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const pid = /^\s*(\d+)\s*$/.exec(text)?.[1]
  return { text, pid: pid === undefined ? undefined : Number(pid) }
}

/**
 * Take `storeFile`.lock for this process or throw TANDEM_ERR_STORE_LOCKED naming the holder's pid.
 * A lock naming a dead pid, our own pid (a restarted container reuses pid 1) or no pid is stale.
 */
export function lockStoreFile(storeFile: string, pid = process.pid): StoreLock {
  const lock = `${storeFile}.lock`
  const mine = `${lock}.${pid}.${Math.random().toString(36).slice(2)}`
  mkdirSync(dirname(storeFile), { recursive: true })
  writeFileSync(mine, `${pid}\n`)
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(mine, lock)
        return {
          file: lock,
          release: () => {
            // Only remove the lock if it is still ours.
            if (holderOf(lock)?.pid === pid) unlinkSync(lock)
          },
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
      const holder = holderOf(lock)
      if (holder === undefined) continue // released meanwhile
      if (holder.pid !== undefined && holder.pid !== pid && isAlive(holder.pid)) {
        throw new TandemError('TANDEM_ERR_STORE_LOCKED', { file: storeFile, pid: holder.pid, lock })
      }
      // Stale: move it aside (atomic, so two takers cannot both remove it), then check that what was
      // moved is the stale lock seen above and not a live one taken meanwhile; give that one back.
      const aside = `${lock}.stale.${pid}.${Math.random().toString(36).slice(2)}`
      try {
        renameSync(lock, aside)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw error
      }
      const moved = holderOf(aside)
      if (moved !== undefined && moved.text !== holder.text) {
        try {
          linkSync(aside, lock)
        } catch {
          // someone holds the lock again: it is theirs either way
        }
      }
      unlinkSync(aside)
    }
    const holder = holderOf(lock)
    throw new TandemError('TANDEM_ERR_STORE_LOCKED', { file: storeFile, pid: holder?.pid ?? 'unknown', lock })
  } finally {
    unlinkSync(mine)
  }
}
