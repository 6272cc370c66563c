// Persistent rollout state of every system and the append-only decision log. A stage change and the
// decision that caused it are written in one transaction, so a crash never leaves one without the other.
import { TandemError } from '../errors.js'
import { announce } from './changes.js'
import { assertFence, type LeaseFence } from './lease.js'
import type { Store } from './open.js'
import type { Arm, Stage } from '../domain/stages.js'
import type { DecisionTable, SystemStateTable } from './tables.js'

export interface SystemState {
  readonly system: string
  readonly stage: Stage
  readonly weight: number
  readonly stepIndex: number
  readonly stepStartedAt: number | null
  readonly paused: boolean
  readonly activeArm: Arm
  readonly startedAt: number | null
  readonly promotedAt: number | null
  readonly completedAt: number | null
  readonly updatedAt: number
  readonly version: number
}

export interface Decision {
  readonly id: number
  readonly system: string
  readonly seq: number
  readonly action: string
  readonly actor: string
  readonly reason: string
  readonly fromStage: Stage
  readonly toStage: Stage
  readonly weight: number
  readonly stepIndex: number
  readonly evidence: unknown
  readonly at: number
  /** The controller lease term this decision was taken under; null for an operator's. */
  readonly leaseToken: number | null
}

export type NewDecision = Pick<Decision, 'action' | 'actor' | 'reason'> & { readonly evidence?: unknown }
export type StateChange = Partial<Omit<SystemState, 'system' | 'version' | 'updatedAt'>>

export function initialState(system: string, now = Date.now()): SystemState {
  return {
    system,
    stage: 'pending',
    weight: 0,
    stepIndex: -1,
    stepStartedAt: null,
    paused: false,
    activeArm: 'legacy',
    startedAt: null,
    promotedAt: null,
    completedAt: null,
    updatedAt: now,
    version: 0,
  }
}

function fromRow(r: SystemStateTable): SystemState {
  return {
    system: r.system,
    stage: r.stage,
    weight: Number(r.weight),
    stepIndex: r.step_index,
    stepStartedAt: r.step_started_at,
    paused: Boolean(r.paused),
    activeArm: r.active_arm,
    startedAt: r.started_at,
    promotedAt: r.promoted_at,
    completedAt: r.completed_at,
    updatedAt: r.updated_at,
    version: r.version,
  }
}

function toRow(s: SystemState): SystemStateTable {
  return {
    system: s.system,
    stage: s.stage,
    weight: s.weight,
    step_index: s.stepIndex,
    step_started_at: s.stepStartedAt,
    paused: s.paused ? 1 : 0,
    active_arm: s.activeArm,
    started_at: s.startedAt,
    promoted_at: s.promotedAt,
    completed_at: s.completedAt,
    updated_at: s.updatedAt,
    version: s.version,
  }
}

function decisionFromRow(r: Omit<DecisionTable, 'id'> & { id: number }): Decision {
  return {
    id: Number(r.id),
    system: r.system,
    seq: r.seq,
    action: r.action,
    actor: r.actor,
    reason: r.reason,
    fromStage: r.from_stage,
    toStage: r.to_stage,
    weight: Number(r.weight),
    stepIndex: r.step_index,
    evidence: r.evidence === null ? null : JSON.parse(r.evidence),
    at: Number(r.at),
    leaseToken: r.lease_token === null ? null : Number(r.lease_token),
  }
}

/** State of one system; a system never seen before is `pending` (not yet written). */
export async function getState(store: Store, system: string): Promise<SystemState> {
  const row = await store.db.selectFrom('system_state').selectAll().where('system', '=', system).executeTakeFirst()
  return row === undefined ? initialState(system) : fromRow(row)
}

export async function listStates(store: Store): Promise<SystemState[]> {
  const rows = await store.db.selectFrom('system_state').selectAll().orderBy('system').execute()
  return rows.map(fromRow)
}

/**
 * Apply `change` to the system's state and append `decision`, atomically. `expectedVersion` guards
 * against a concurrent writer (another instance, or an operator racing the controller). A controller
 * decision passes its lease `fence`: refused with TANDEM_ERR_LEASE_LOST, in the same transaction, when
 * another instance has taken the lease over since (operators' decisions carry none).
 */
export async function recordDecision(
  store: Store,
  system: string,
  expectedVersion: number,
  change: StateChange,
  decision: NewDecision,
  now = Date.now(),
  fence?: LeaseFence,
): Promise<{ state: SystemState; decision: Decision }> {
  const result = await store.db.transaction().execute(async (trx) => {
    if (fence !== undefined) await assertFence(trx, store.dialect, fence)
    const row = await trx.selectFrom('system_state').selectAll().where('system', '=', system).executeTakeFirst()
    const current = row === undefined ? initialState(system, now) : fromRow(row)
    if (current.version !== expectedVersion) throw new TandemError('TANDEM_ERR_STORE_CONFLICT', { system })
    const next: SystemState = { ...current, ...change, system, updatedAt: now, version: current.version + 1 }
    if (row === undefined) await trx.insertInto('system_state').values(toRow(next)).execute()
    else {
      const res = await trx
        .updateTable('system_state')
        .set(toRow(next))
        .where('system', '=', system)
        .where('version', '=', expectedVersion)
        .executeTakeFirst()
      if (Number(res.numUpdatedRows) !== 1) throw new TandemError('TANDEM_ERR_STORE_CONFLICT', { system })
    }
    const last = await trx
      .selectFrom('decisions')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('system', '=', system)
      .executeTakeFirst()
    const values = {
      system,
      seq: Number(last?.seq ?? 0) + 1,
      action: decision.action,
      actor: decision.actor,
      reason: decision.reason,
      from_stage: current.stage,
      to_stage: next.stage,
      weight: next.weight,
      step_index: next.stepIndex,
      evidence: decision.evidence === undefined ? null : JSON.stringify(decision.evidence),
      at: now,
      lease_token: fence?.token ?? null,
    }
    const inserted = await trx.insertInto('decisions').values(values).returning('id').executeTakeFirstOrThrow()
    if (store.dialect === 'postgres') await announce(store, 'state', system, trx)
    return { state: next, decision: decisionFromRow({ ...values, id: Number(inserted.id) }) }
  })
  if (store.dialect !== 'postgres') await announce(store, 'state', system)
  return result
}

export async function listDecisions(store: Store, system?: string, limit = 1000): Promise<Decision[]> {
  let q = store.db.selectFrom('decisions').selectAll()
  if (system !== undefined) q = q.where('system', '=', system)
  const rows = await q.orderBy('id', 'desc').limit(limit).execute()
  return rows.reverse().map((r) => decisionFromRow({ ...r, id: Number(r.id) }))
}

/** A decision without its evidence: what reports, hold reasons and the program's facts read. */
export type DecisionSummary = Omit<Decision, 'evidence' | 'leaseToken'>

const SUMMARY_COLUMNS = [
  'id',
  'system',
  'seq',
  'action',
  'actor',
  'reason',
  'from_stage',
  'to_stage',
  'weight',
  'step_index',
  'at',
] as const

function summaryFromRow(r: Omit<DecisionTable, 'id' | 'evidence' | 'lease_token'> & { id: number }): DecisionSummary {
  const {
    evidence: _evidence,
    leaseToken: _token,
    ...summary
  } = decisionFromRow({ ...r, evidence: null, lease_token: null })
  return summary
}

/** The decisions of `systems`, oldest first; only those whose action is one of `actions` when given. */
export async function decisionHistory(
  store: Store,
  systems: readonly string[],
  actions?: readonly string[],
): Promise<DecisionSummary[]> {
  if (systems.length === 0 || actions?.length === 0) return []
  let q = store.db.selectFrom('decisions').select(SUMMARY_COLUMNS).where('system', 'in', systems)
  if (actions !== undefined) q = q.where('action', 'in', actions)
  const rows = await q.orderBy('id').execute()
  return rows.map((r) => summaryFromRow({ ...r, id: Number(r.id) }))
}

/** The newest `limit` decisions of a system whose action is one of `actions`, newest first. */
export async function latestDecisions(
  store: Store,
  system: string,
  actions: readonly string[],
  limit: number,
): Promise<DecisionSummary[]> {
  const rows = await store.db
    .selectFrom('decisions')
    .select(SUMMARY_COLUMNS)
    .where('system', '=', system)
    .where('action', 'in', actions)
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute()
  return rows.map((r) => summaryFromRow({ ...r, id: Number(r.id) }))
}

/** Who took `action` on the system last (e.g. who paused it, for "paused by alice"). */
export async function lastActor(store: Store, system: string, action: string): Promise<string | null> {
  return (await latestDecisions(store, system, [action], 1))[0]?.actor ?? null
}

/** When each of `systems` first left pending (its first start), for those that did. */
export async function firstStarts(store: Store, systems: readonly string[]): Promise<Map<string, number>> {
  if (systems.length === 0) return new Map()
  const rows = await store.db
    .selectFrom('decisions')
    .select((eb) => ['system', eb.fn.min('at').as('at')])
    .where('system', 'in', systems)
    .where('from_stage', '=', 'pending')
    .where('to_stage', '!=', 'pending')
    .groupBy('system')
    .execute()
  return new Map(rows.map((r) => [r.system, Number(r.at)]))
}

/** Which of `systems` rolled back (a decision entering rolled-back) at or after `since`. */
export async function systemsRolledBackSince(
  store: Store,
  systems: readonly string[],
  since: number,
): Promise<Set<string>> {
  if (systems.length === 0) return new Set()
  const rows = await store.db
    .selectFrom('decisions')
    .select('system')
    .distinct()
    .where('system', 'in', systems)
    .where('to_stage', '=', 'rolled-back')
    .where('from_stage', '!=', 'rolled-back')
    .where('at', '>=', since)
    .execute()
  return new Set(rows.map((r) => r.system))
}
