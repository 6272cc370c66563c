// The program's halt state (SPEC 7, mass failure): halted or running, why, by whom and when. One row in
// the store, so it survives restarts and every instance sharing a PostgreSQL store reads the same one.
// Its history is the audit trail: every halt and resume is audited by its caller.
import type { Store } from './open.js'

export interface ProgramState {
  readonly halted: boolean
  readonly reason: string | null
  readonly actor: string | null
  /** The wave whose rollbacks halted the program; null for a manual halt or when running. */
  readonly wave: string | null
  /** When it was last halted or resumed (0 when never). */
  readonly at: number
}

export const RUNNING: ProgramState = { halted: false, reason: null, actor: null, wave: null, at: 0 }

export async function getProgramState(store: Store): Promise<ProgramState> {
  const row = await store.db.selectFrom('program_state').selectAll().where('id', '=', 1).executeTakeFirst()
  if (row === undefined) return RUNNING
  return { halted: Boolean(row.halted), reason: row.reason, actor: row.actor, wave: row.wave, at: Number(row.at) }
}

/**
 * Halt or resume, only if the program is not already in that state: returns the new state, or null
 * when another writer (a second rollback racing this one, another instance) got there first.
 */
export async function setProgramState(
  store: Store,
  next: Omit<ProgramState, 'at'>,
  now: number,
): Promise<ProgramState | null> {
  const changed = await store.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('program_state')
      .select(['halted', 'version'])
      .where('id', '=', 1)
      .executeTakeFirst()
    const values = { halted: next.halted ? 1 : 0, reason: next.reason, actor: next.actor, wave: next.wave, at: now }
    if (row === undefined) {
      if (!next.halted) return false
      // Two instances halting at once: the second insert does nothing and reports no change.
      const res = await trx
        .insertInto('program_state')
        .values({ id: 1, ...values, version: 1 })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst()
      return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1
    }
    if (Boolean(row.halted) === next.halted) return false
    const res = await trx
      .updateTable('program_state')
      .set({ ...values, version: row.version + 1 })
      .where('id', '=', 1)
      .where('version', '=', row.version)
      .executeTakeFirst()
    return Number(res.numUpdatedRows) === 1
  })
  return changed ? { ...next, at: now } : null
}
