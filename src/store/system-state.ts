// Persistent rollout state of every system and the append-only decision log. A stage change and the
// decision that caused it are written in one transaction, so a crash never leaves one without the other.
import { TandemError } from '../errors.js'
import { announce } from './changes.js'
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
    at: r.at,
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
 * against a concurrent writer (another instance, or an operator racing the controller).
 */
export async function recordDecision(
  store: Store,
  system: string,
  expectedVersion: number,
  change: StateChange,
  decision: NewDecision,
  now = Date.now(),
): Promise<{ state: SystemState; decision: Decision }> {
  const result = await store.db.transaction().execute(async (trx) => {
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
