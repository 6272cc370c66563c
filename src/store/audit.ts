// The audit trail (the admin API, signals, the program halt): every action and config reload, accepted or
// refused, with who, what, when and the result. Rows are appended, never changed.
import type { Store } from './open.js'

export type AuditResult = 'ok' | 'refused' | 'error'

export interface AuditEntry {
  readonly actor: string
  readonly role: string
  /** `start`, `rollback`, ... or `config.reload`. */
  readonly action: string
  readonly target: string | null
  readonly params?: unknown
  readonly result: AuditResult
  /** Error code and message for refusals and failures; the decision id for accepted actions. */
  readonly detail?: string | null
}

export interface AuditRecord extends AuditEntry {
  readonly id: number
  readonly at: number
  readonly params: unknown
  readonly detail: string | null
}

export async function writeAudit(store: Store, entry: AuditEntry, now = Date.now()): Promise<void> {
  await store.db
    .insertInto('audit')
    .values({
      at: now,
      actor: entry.actor,
      role: entry.role,
      action: entry.action,
      target: entry.target,
      params: entry.params === undefined ? null : JSON.stringify(entry.params),
      result: entry.result,
      detail: entry.detail ?? null,
    })
    .execute()
}

export interface AuditQuery {
  readonly limit?: number
  readonly target?: string
  readonly actor?: string
  readonly before?: number
}

/** Newest first. */
export async function listAudit(store: Store, query: AuditQuery = {}): Promise<AuditRecord[]> {
  let q = store.db.selectFrom('audit').selectAll()
  if (query.target !== undefined) q = q.where('target', '=', query.target)
  if (query.actor !== undefined) q = q.where('actor', '=', query.actor)
  if (query.before !== undefined) q = q.where('id', '<', query.before)
  const rows = await q
    .orderBy('id', 'desc')
    .limit(query.limit ?? 100)
    .execute()
  return rows.map((r) => ({
    id: Number(r.id),
    at: Number(r.at),
    actor: r.actor,
    role: r.role,
    action: r.action,
    target: r.target,
    params: r.params === null ? null : JSON.parse(r.params),
    result: r.result as AuditResult,
    detail: r.detail,
  }))
}
