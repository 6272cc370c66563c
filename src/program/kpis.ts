// Program KPIs exactly as SPEC 7, success score included. The definitions are written out in
// docs/kpis.md; everything comes from the store through systemFacts, never from in-memory counters.
import type { Config } from '../config/schema.js'
import type { Store } from '../store/open.js'
import { programStartedAt, systemFacts, type SystemFacts } from './system-facts.js'

export interface Kpis {
  readonly systemsMigrated: number
  readonly systemsTotal: number
  readonly migrationRate: number
  readonly validationSuccessRate: number
  readonly rollbackCount: number
  readonly failedMigrations: number
  readonly avgThroughputImprovement: number
  readonly avgLatencyChange: number
  readonly avgMigrationTimeHours: number
  readonly totalDowntimeMinutes: number
  /** SPEC 7's score, each term clamped to [0, 1]; null until a system has been promoted or rolled back. */
  readonly successScore: number | null
}

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000

export function isMigrated(f: Pick<SystemFacts, 'stage'>): boolean {
  return f.stage === 'promoted' || f.stage === 'completed'
}

const clamp01 = (v: number): number => Math.min(1, Math.max(0, v))

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length
}

/** The pure formula: facts of every configured system, when the program started, and now. */
export function computeKpis(facts: readonly SystemFacts[], startedAt: number | null, now: number): Kpis {
  const migrated = facts.filter(isMigrated)
  const systemsMigrated = migrated.length
  const systemsTotal = facts.length
  // Less than a day of program counts as one day, so the first promotion does not read as 100/day.
  const elapsedDays = startedAt === null ? 0 : Math.max(1, (now - startedAt) / DAY_MS)
  const migrationRate = elapsedDays === 0 ? 0 : systemsMigrated / elapsedDays
  const validationSuccessRate = mean(migrated.map((f) => f.matchRate).filter((v): v is number => v !== null))
  const rollbackCount = facts.reduce((n, f) => n + f.rollbacks.length, 0)
  const failedMigrations = facts.filter((f) => f.stage === 'rolled-back').length
  const avgThroughputImprovement = mean(migrated.map((f) => f.throughputChange).filter((v): v is number => v !== null))
  const avgLatencyChange = mean(migrated.map((f) => f.latencyChange).filter((v): v is number => v !== null))
  const avgMigrationTimeHours = mean(
    migrated
      .filter((f) => f.startedAt !== null && f.promotedAt !== null)
      .map((f) => (f.promotedAt! - f.startedAt!) / HOUR_MS),
  )
  const totalDowntimeMinutes = facts.reduce((n, f) => n + f.downtimeMinutes, 0)
  // Before any promotion or rollback the terms only restate defaults ("no failure", "no downtime"):
  // an untouched program would score 4/6. Each term is a share, so each is clamped to [0, 1]; the
  // rollback term alone would otherwise go below zero (four rollbacks, nothing migrated: -3).
  const judged = systemsMigrated > 0 || rollbackCount > 0
  const terms = [
    systemsTotal === 0 ? 0 : systemsMigrated / systemsTotal,
    validationSuccessRate,
    1 - rollbackCount / Math.max(systemsMigrated, 1),
    failedMigrations === 0 ? 1 : 0.5,
    avgThroughputImprovement + 1,
    totalDowntimeMinutes === 0 ? 1 : 0.8,
  ].map(clamp01)
  return {
    systemsMigrated,
    systemsTotal,
    migrationRate,
    validationSuccessRate,
    rollbackCount,
    failedMigrations,
    avgThroughputImprovement,
    avgLatencyChange,
    avgMigrationTimeHours,
    totalDowntimeMinutes,
    successScore: judged ? mean(terms) : null,
  }
}

/** KPIs of the program described by `config`, read from `store`. */
export async function programKpis(
  config: Config,
  store: Store,
  now = Date.now(),
): Promise<{ kpis: Kpis; facts: SystemFacts[] }> {
  const [facts, startedAt] = await Promise.all([systemFacts(config, store, now), programStartedAt(config, store)])
  return { kpis: computeKpis(facts, startedAt, now), facts }
}
