// Reading stored verdicts: the controller (consecutive failures), the admin API and the CLI share it.
import type { Store } from './open.js'
import type { Stage } from '../domain/stages.js'

export interface StoredVerdict {
  readonly id: number
  readonly system: string
  readonly at: number
  readonly stage: Stage
  readonly stepIndex: number
  readonly weight: number
  readonly verdict: 'pass' | 'fail' | 'inconclusive'
  readonly judge: string
  readonly score: number | null
  readonly windowStart: number
  readonly windowEnd: number
  /** { reason, samples, promoteOk, rules: RuleEvidence[] } as written by the controller. */
  readonly evidence: { reason: string; rules: unknown[]; [key: string]: unknown }
}

/** Newest first; one system or all, optionally only those at or after `since`. */
export async function listVerdicts(
  store: Store,
  options: { readonly system?: string; readonly since?: number; readonly limit: number },
): Promise<StoredVerdict[]> {
  let q = store.db.selectFrom('verdicts').selectAll()
  if (options.system !== undefined) q = q.where('system', '=', options.system)
  if (options.since !== undefined) q = q.where('at', '>=', options.since)
  const rows = await q.orderBy('id', 'desc').limit(options.limit).execute()
  return rows.map((r) => ({
    id: Number(r.id),
    system: r.system,
    at: Number(r.at),
    stage: r.stage,
    stepIndex: r.step_index,
    weight: Number(r.weight),
    verdict: r.verdict,
    judge: r.judge,
    score: r.score === null ? null : Number(r.score),
    windowStart: Number(r.window_start),
    windowEnd: Number(r.window_end),
    evidence: JSON.parse(r.evidence),
  }))
}
