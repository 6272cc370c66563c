// The mass-failure halt of the migration program (SPEC 7): when `program.haltAfterRollbacks` systems of
// one wave have rolled back, or an operator runs `tandem program halt`, no system starts or advances
// until `tandem program resume`. Rollbacks still happen. Every halt and resume is audited.
import { writeAudit } from '../store/audit.js'
import type { Config } from '../config/schema.js'
import { TandemError } from '../errors.js'
import type { Store } from '../store/open.js'
import { getProgramState, setProgramState, type ProgramState } from '../store/program-state.js'
import { systemsRolledBackSince } from '../store/system-state.js'
import { systemsOfWave, waveOf } from './waves.js'

export type { ProgramState } from '../store/program-state.js'

export interface HaltRequest {
  readonly actor: string
  /** The actor's role, for the audit trail (`controller` for an automatic halt). */
  readonly role: string
  readonly reason?: string | undefined
}

/** One sentence for status pages, hold reasons and refusals. */
export function describeHalt(p: ProgramState): string {
  return `${p.reason ?? 'halted'} (by ${p.actor ?? 'an operator'} at ${new Date(p.at).toISOString()})`
}

/** Systems of `wave` rolled back (a decision entering rolled-back) at or after `since`, in config order. */
export async function rolledBackSince(config: Config, store: Store, wave: string, since: number): Promise<string[]> {
  const systems = systemsOfWave(config, wave)
  if (systems.length === 0) return []
  const hit = await systemsRolledBackSince(store, systems, since)
  return systems.filter((s) => hit.has(s))
}

/**
 * After a rollback of `system`: halt the program when its wave now has `haltAfterRollbacks` systems
 * rolled back since the program last resumed. Returns the new halt, or null (below the limit, no
 * wave, already halted, or another writer halted first).
 */
export async function haltAfterRollback(
  config: Config,
  store: Store,
  system: string,
  now: number,
): Promise<ProgramState | null> {
  const wave = waveOf(config, system)
  if (wave === undefined) return null
  const current = await getProgramState(store)
  if (current.halted) return null
  const limit = config.program.haltAfterRollbacks
  const rolledBack = await rolledBackSince(config, store, wave.name, current.at)
  if (rolledBack.length < limit) return null
  const reason =
    `mass failure: ${rolledBack.length} systems of wave ${wave.name} rolled back` +
    ` (${rolledBack.join(', ')}); program.haltAfterRollbacks is ${limit}`
  const halted = await setProgramState(store, { halted: true, reason, actor: 'controller', wave: wave.name }, now)
  if (halted !== null) {
    await writeAudit(
      store,
      {
        actor: 'controller',
        role: 'controller',
        action: 'program.halt',
        target: null,
        params: { reason, wave: wave.name, systems: rolledBack },
        result: 'ok',
      },
      now,
    )
  }
  return halted
}

/** `tandem program halt`: refused when already halted. The caller audits. */
export async function haltProgram(store: Store, request: HaltRequest, now: number): Promise<ProgramState> {
  const reason = request.reason ?? `halted by ${request.actor}`
  const halted = await setProgramState(store, { halted: true, reason, actor: request.actor, wave: null }, now)
  if (halted === null)
    throw new TandemError('TANDEM_ERR_PROGRAM_ALREADY_HALTED', { reason: describeHalt(await getProgramState(store)) })
  return halted
}

/** `tandem program resume`: refused when not halted. Rollbacks before now no longer count towards a halt. */
export async function resumeProgram(store: Store, request: HaltRequest, now: number): Promise<ProgramState> {
  const reason = request.reason ?? `resumed by ${request.actor}`
  const resumed = await setProgramState(store, { halted: false, reason, actor: request.actor, wave: null }, now)
  if (resumed === null) throw new TandemError('TANDEM_ERR_PROGRAM_NOT_HALTED')
  return resumed
}

/** Throws TANDEM_ERR_PROGRAM_HALTED when the program is halted: for start, retry, advance, promote, finalize. */
export async function assertNotHalted(store: Store, action: string, system: string): Promise<void> {
  const p = await getProgramState(store)
  if (p.halted)
    throw new TandemError(
      'TANDEM_ERR_PROGRAM_HALTED',
      { action, system, reason: describeHalt(p) },
      { details: { program: p } },
    )
}
