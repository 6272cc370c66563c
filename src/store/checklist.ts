// The outcomes of checklist runs (SPEC 7), pre and post (`post:` checks), with their output: appended in
// checklist_results, one row per check and run, never changed.
import type { Store } from './open.js'

export interface ChecklistOutcome {
  /** A built-in name, `custom:NAME`, `dataDiff`, `eventsVerify`, or one of those after `post:`. */
  readonly check: string
  readonly ok: boolean
  readonly configured: boolean
  readonly output: string
  readonly at: number
}

export async function saveChecklistResults(
  store: Store,
  system: string,
  results: readonly ChecklistOutcome[],
): Promise<void> {
  if (results.length === 0) return
  const rows = results.map((r) => ({
    system,
    check: r.check,
    ok: r.ok ? 1 : 0,
    configured: r.configured ? 1 : 0,
    output: r.output,
    at: r.at,
  }))
  await store.db.insertInto('checklist_results').values(rows).execute()
}
