// Read models of the admin API: a system's summary (config + rollout state + hold reason), its detail
// (steps, recent verdicts with evidence, recent decisions) and the verdict list.
import type { SystemConfig } from '../config/schema.js'
import { TandemError } from '../errors.js'
import { waveOf } from '../program/waves.js'
import { getWatermark } from '../store/move-watermarks.js'
import { getState, listDecisions, type Decision, type SystemState } from '../store/system-state.js'
import { listVerdicts as listStoredVerdicts, type StoredVerdict } from '../store/verdicts.js'
import type { AdminDeps } from './deps.js'
import { flagsOf } from '../flags/runtime.js'
import type { FlagClient } from '../flags/clients.js'

export interface SystemSummary {
  readonly name: string
  readonly kind: SystemConfig['kind']
  readonly category: string
  readonly priority: string
  readonly wave: string | null
  readonly stage: SystemState['stage']
  readonly weight: number
  readonly stepIndex: number
  readonly paused: boolean
  readonly activeArm: SystemState['activeArm']
  readonly holdReason: string | null
  /** Datastore and events systems: both sides proven equal up to this time (ms), null before the first window. */
  readonly verifiedThrough?: number | null
  /** Adapters following this system as a flag (SPEC 12): set for code systems and for any system followed. */
  readonly flagClients?: { readonly count: number; readonly clients: readonly FlagClient[] }
}

/** A stored verdict as the API shows it. */
export type VerdictView = StoredVerdict

export function findSystem(deps: AdminDeps, name: string): SystemConfig {
  const system = deps.config().systems.find((s) => s.name === name)
  if (system === undefined) throw new TandemError('TANDEM_ERR_SYSTEM_NOT_FOUND', { system: name })
  return system
}

/** The controller's view when one runs (it knows the hold reason), else the stored state. */
async function stateOf(deps: AdminDeps, name: string): Promise<{ state: SystemState; holdReason: string | null }> {
  if (deps.control !== undefined) return deps.control.status(name)
  return { state: await getState(deps.store, name), holdReason: null }
}

export async function systemSummary(deps: AdminDeps, system: SystemConfig): Promise<SystemSummary> {
  const { state, holdReason } = await stateOf(deps, system.name)
  return {
    name: system.name,
    kind: system.kind,
    category: system.category,
    priority: system.priority,
    wave: waveOf(deps.config(), system)?.name ?? null,
    stage: state.stage,
    weight: state.weight,
    stepIndex: state.stepIndex,
    paused: state.paused,
    activeArm: state.activeArm,
    holdReason,
    ...(system.kind !== 'datastore' && system.kind !== 'events'
      ? {}
      : { verifiedThrough: (await getWatermark(deps.store, system.name))?.verifiedThrough ?? null }),
    ...followers(deps, system),
  }
}

function followers(deps: AdminDeps, system: SystemConfig): Pick<SystemSummary, 'flagClients'> {
  const clients = flagsOf(deps).clients.following(system.name)
  if (clients.length === 0 && system.kind !== 'code') return {}
  return { flagClients: { count: clients.length, clients: clients.slice(0, 100) } }
}

export async function listSystems(deps: AdminDeps): Promise<SystemSummary[]> {
  return Promise.all(deps.config().systems.map((s) => systemSummary(deps, s)))
}

export async function listVerdicts(deps: AdminDeps, system: string | undefined, limit: number): Promise<VerdictView[]> {
  return listStoredVerdicts(deps.store, system === undefined ? { limit } : { system, limit })
}

export async function systemDetail(
  deps: AdminDeps,
  name: string,
): Promise<SystemSummary & { steps: unknown[]; verdicts: VerdictView[]; decisions: Decision[] }> {
  const system = findSystem(deps, name)
  const [summary, verdicts, decisions] = await Promise.all([
    systemSummary(deps, system),
    listVerdicts(deps, name, 20),
    listDecisions(deps.store, name, 50),
  ])
  return { ...summary, steps: [...system.rollout.steps], verdicts, decisions }
}
