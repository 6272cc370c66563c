// Read models of the admin API: a system's summary (config + rollout state + hold reason), its detail
// (steps, recent verdicts with evidence, recent decisions) and the verdict list.
import type { SystemConfig } from '../config/schema.js'
import { TandemError } from '../errors.js'
import { waveOf } from '../program/waves.js'
import { getState, listDecisions, type Decision, type SystemState } from '../store/system-state.js'
import type { AdminDeps } from './deps.js'

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
}

export interface VerdictView {
  readonly id: number
  readonly system: string
  readonly at: number
  readonly stage: string
  readonly stepIndex: number
  readonly weight: number
  readonly verdict: 'pass' | 'fail' | 'inconclusive'
  readonly judge: string
  readonly score: number | null
  readonly windowStart: number
  readonly windowEnd: number
  readonly evidence: unknown
}

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
  }
}

export async function listSystems(deps: AdminDeps): Promise<SystemSummary[]> {
  return Promise.all(deps.config().systems.map((s) => systemSummary(deps, s)))
}

export async function listVerdicts(deps: AdminDeps, system: string | undefined, limit: number): Promise<VerdictView[]> {
  let q = deps.store.db.selectFrom('verdicts').selectAll()
  if (system !== undefined) q = q.where('system', '=', system)
  const rows = await q.orderBy('id', 'desc').limit(limit).execute()
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
    evidence: parseJson(r.evidence),
  }))
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
