// The gate in front of `tandem start` (pending -> first step): the system's wave must be open and
// under its maxConcurrent, and every configured checklist item must pass; --force overrides, audited by the caller.
import type { Config } from '../config/schema.js'
import { TandemError } from '../errors.js'
import type { Store } from '../store/open.js'
import { listStates } from '../store/system-state.js'
import { TRIAL_STAGES, type Stage } from '../domain/stages.js'
import { runChecklist, type CheckResult } from './checklist.js'
import { stageMap, waveOf, waveStatus } from './waves.js'

export type { CheckResult } from './checklist.js'
export { waveOf, waveStatus } from './waves.js'

export interface GateResult {
  readonly allowed: boolean
  /** Why the start is refused (also filled under force, so the caller can audit what was overridden). */
  readonly reasons: string[]
  readonly checks: CheckResult[]
}

/** Wave reasons only: cheap, no probe runs. Used by status pages to say why a system waits. */
export function waveReasons(config: Config, stages: ReadonlyMap<string, Stage>, system: string): string[] {
  const wave = waveOf(config, system)
  if (wave === undefined) return []
  const states = [...stages].map(([s, stage]) => ({ system: s, stage }))
  const status = waveStatus(config, states).find((w) => w.name === wave.name)!
  const reasons: string[] = []
  if (!status.open) reasons.push(`wave ${wave.name} is ${status.reason}`)
  const othersActive = status.systems.filter(
    (s) => s !== system && TRIAL_STAGES.includes(stages.get(s) ?? 'pending'),
  ).length
  if (othersActive >= wave.maxConcurrent) {
    reasons.push(
      `wave ${wave.name} already has ${othersActive} active system(s), its maxConcurrent is ${wave.maxConcurrent}`,
    )
  }
  return reasons
}

export async function startGate(
  config: Config,
  store: Store,
  system: string,
  options: { force?: boolean } = {},
): Promise<GateResult> {
  if (!config.systems.some((s) => s.name === system)) throw new TandemError('TANDEM_ERR_SYSTEM_NOT_FOUND', { system })
  const stages = stageMap(await listStates(store))
  const reasons = waveReasons(config, stages, system)
  const checks = await runChecklist(config, store, system, { stages })
  for (const c of checks) {
    if (!c.ok) reasons.push(`checklist ${c.check} failed: ${firstLine(c.output)}`)
  }
  return { allowed: options.force === true || reasons.length === 0, reasons, checks }
}

function firstLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('$ '))
  return lines[0] ?? text
}
