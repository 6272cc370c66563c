// Number and time formatting shared by the Markdown and HTML reports, so both read the same.
import type { Kpis } from './kpis.js'

export function pct(v: number | null, digits = 1): string {
  return v === null ? '—' : `${(v * 100).toFixed(digits)} %`
}

/** A relative change with its sign: +12.0 %, -3.5 %. */
export function change(v: number | null): string {
  if (v === null) return '—'
  const s = (v * 100).toFixed(1)
  return `${v > 0 ? '+' : ''}${s} %`
}

export function hours(v: number | null): string {
  if (v === null) return '—'
  return v < 48 ? `${v.toFixed(1)} h` : `${(v / 24).toFixed(1)} d`
}

export function when(ms: number | null): string {
  return ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z'
}

/** What the report shows for the success score before any system was promoted or rolled back. */
export const NO_SCORE = '— (no system promoted or rolled back yet)'

/** The KPI table in SPEC order, with a human label and the formatted value. */
export function kpiRows(k: Kpis): { key: keyof Kpis; label: string; value: string }[] {
  return [
    { key: 'systemsMigrated', label: 'Systems migrated', value: `${k.systemsMigrated} / ${k.systemsTotal}` },
    { key: 'migrationRate', label: 'Migration rate', value: `${k.migrationRate.toFixed(2)} systems/day` },
    { key: 'validationSuccessRate', label: 'Validation success rate', value: pct(k.validationSuccessRate) },
    { key: 'rollbackCount', label: 'Rollbacks', value: String(k.rollbackCount) },
    { key: 'failedMigrations', label: 'Failed migrations', value: String(k.failedMigrations) },
    { key: 'avgThroughputImprovement', label: 'Avg throughput improvement', value: change(k.avgThroughputImprovement) },
    { key: 'avgLatencyChange', label: 'Avg latency change', value: change(k.avgLatencyChange) },
    { key: 'avgMigrationTimeHours', label: 'Avg migration time', value: hours(k.avgMigrationTimeHours) },
    { key: 'totalDowntimeMinutes', label: 'Total downtime', value: `${k.totalDowntimeMinutes.toFixed(1)} min` },
    { key: 'successScore', label: 'Success score', value: k.successScore === null ? NO_SCORE : k.successScore.toFixed(3) },
  ]
}
