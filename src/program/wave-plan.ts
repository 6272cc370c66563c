// Planned waves (SPEC 7, `waves[].duration`): per wave, the planned length against the actual one, and
// the projected end from the program's current migration rate. Pure: stages and start times come in.
import type { Config } from '../config/schema.js'
import { DONE_STAGES } from '../domain/stages.js'
import type { SystemFacts } from './system-facts.js'
import { systemsOfWave } from './waves.js'

const DAY_MS = 86_400_000

export interface WavePlan {
  readonly wave: string
  /** Planned length in ms; null when the wave declares no duration. */
  readonly plannedMs: number | null
  /** First start of any of its systems; null before any. */
  readonly startedAt: number | null
  /** When its last system was promoted, once every system is done; null before. */
  readonly finishedAt: number | null
  /** From the first start to the finish, or to now while it runs. */
  readonly actualMs: number | null
  /** Planned end: startedAt + plannedMs. */
  readonly plannedEnd: number | null
  /** now + remaining systems / migrationRate (systems per day); the finish once done; null without a rate. */
  readonly projectedEnd: number | null
  readonly remaining: number
  /** Projected (or actual) end after the planned end. */
  readonly late: boolean | null
}

export function wavePlans(
  config: Config,
  facts: readonly SystemFacts[],
  firstStarts: ReadonlyMap<string, number>,
  migrationRate: number,
  now: number,
): WavePlan[] {
  const byName = new Map(facts.map((f) => [f.system, f]))
  return config.waves.map((wave) => {
    const systems = systemsOfWave(config, wave.name)
    const starts = systems.map((s) => firstStarts.get(s)).filter((t): t is number => t !== undefined)
    const startedAt = starts.length === 0 ? null : Math.min(...starts)
    const done = systems.filter((s) => DONE_STAGES.includes(byName.get(s)?.stage ?? 'pending'))
    const remaining = systems.length - done.length
    const promoted = done.map((s) => byName.get(s)?.promotedAt ?? null)
    const finishedAt =
      systems.length > 0 && remaining === 0 && promoted.every((t) => t !== null)
        ? Math.max(...(promoted as number[]))
        : null
    const plannedMs = wave.duration ?? null
    const actualMs = startedAt === null ? null : (finishedAt ?? now) - startedAt
    const plannedEnd = startedAt === null || plannedMs === null ? null : startedAt + plannedMs
    const projectedEnd =
      finishedAt ?? (remaining === 0 ? null : migrationRate > 0 ? now + (remaining / migrationRate) * DAY_MS : null)
    const late = plannedEnd === null || projectedEnd === null ? null : projectedEnd > plannedEnd
    return { wave: wave.name, plannedMs, startedAt, finishedAt, actualMs, plannedEnd, projectedEnd, remaining, late }
  })
}
