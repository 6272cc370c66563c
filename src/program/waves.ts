// Waves of the migration program (SPEC 7): which wave a system belongs to, and whether each wave is
// open, computed from the stored stage of every system.
import type { Config, SystemConfig, WaveConfig } from '../config/schema.js'
import { DONE_STAGES, STAGES, TRIAL_STAGES, type Stage } from '../domain/stages.js'

/** The minimum a wave computation needs from a stored state. */
export interface StageOf {
  readonly system: string
  readonly stage: Stage
}

export interface WaveStatus {
  readonly name: string
  readonly index: number
  readonly rollback: WaveConfig['rollback']
  readonly maxConcurrent: number
  readonly systems: readonly string[]
  readonly counts: Readonly<Record<Stage, number>>
  /** Systems in shadow or canary now. */
  readonly active: number
  /** Systems promoted or completed. */
  readonly done: number
  readonly open: boolean
  /** Why the wave is open or closed, in one sentence. */
  readonly reason: string
}

/**
 * A selector matches a system named in `names`, or one whose priority and category are both allowed
 * (a missing list allows any). An empty selector matches nothing: such a wave is filled by `wave:`.
 */
export function selectorMatches(wave: WaveConfig, system: SystemConfig): boolean {
  const sel = wave.systems
  if (sel.names?.includes(system.name)) return true
  if (sel.priority === undefined && sel.category === undefined) return false
  return (sel.priority?.includes(system.priority) ?? true) && (sel.category?.includes(system.category) ?? true)
}

/** The wave of a system: its explicit `wave:`, else the first wave whose selector matches; undefined if none. */
export function waveOf(config: Config, system: string | SystemConfig): WaveConfig | undefined {
  const sys = typeof system === 'string' ? config.systems.find((s) => s.name === system) : system
  if (sys === undefined) return undefined
  if (sys.wave !== undefined) return config.waves.find((w) => w.name === sys.wave)
  return config.waves.find((w) => selectorMatches(w, sys))
}

/** Names of the systems in a wave, in config order. */
export function systemsOfWave(config: Config, wave: string): string[] {
  return config.systems.filter((s) => waveOf(config, s)?.name === wave).map((s) => s.name)
}

/** Systems that belong to no wave although waves are declared: they are gated by their checklist only. */
export function unassignedSystems(config: Config): string[] {
  if (config.waves.length === 0) return []
  return config.systems.filter((s) => waveOf(config, s) === undefined).map((s) => s.name)
}

export function stageMap(states: readonly StageOf[]): Map<string, Stage> {
  return new Map(states.map((s) => [s.system, s.stage]))
}

/**
 * Per wave: its systems, counts by stage, and whether it is open. A wave is open when every system of
 * every earlier wave is promoted or completed; checking all earlier waves (not only the one before)
 * keeps a later wave closed when an early system is rolled back after its successors opened.
 */
export function waveStatus(config: Config, states: readonly StageOf[]): WaveStatus[] {
  const stages = stageMap(states)
  const stageOf = (name: string): Stage => stages.get(name) ?? 'pending'
  const blockers: { wave: string; system: string; stage: Stage }[] = []
  return config.waves.map((wave, index) => {
    const systems = systemsOfWave(config, wave.name)
    const counts = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>
    for (const name of systems) counts[stageOf(name)] += 1
    const open = blockers.length === 0
    let reason: string
    if (index === 0) reason = 'first wave: open'
    else if (open) reason = `open: every system of earlier waves is promoted or completed`
    else {
      const first = blockers
        .slice(0, 3)
        .map((b) => `${b.system} (${b.wave}, ${b.stage})`)
        .join(', ')
      const more = blockers.length > 3 ? ` and ${blockers.length - 3} more` : ''
      reason = `closed: waiting for ${first}${more} to be promoted or completed`
    }
    for (const name of systems) {
      const stage = stageOf(name)
      if (!DONE_STAGES.includes(stage)) blockers.push({ wave: wave.name, system: name, stage })
    }
    const active = TRIAL_STAGES.reduce((n, s) => n + counts[s], 0)
    const done = DONE_STAGES.reduce((n, s) => n + counts[s], 0)
    return {
      name: wave.name,
      index,
      rollback: wave.rollback,
      maxConcurrent: wave.maxConcurrent,
      systems,
      counts,
      active,
      done,
      open,
      reason,
    }
  })
}
