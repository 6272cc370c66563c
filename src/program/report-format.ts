// Number and time formatting shared by the Markdown and HTML reports, so both read the same.
import type { Kpis } from './kpis.js'
import type { TargetResult } from './targets.js'

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
    {
      key: 'successScore',
      label: 'Success score',
      value: k.successScore === null ? NO_SCORE : k.successScore.toFixed(3),
    },
  ]
}

/** The target of a KPI and whether it is met, for the KPI tables: `—` when it has none. */
export function targetOf(
  targets: readonly TargetResult[],
  key: keyof Kpis,
): { target: string; status: string; met: boolean | null } {
  const t = targets.find((x) => x.kpi === key)
  if (t === undefined) return { target: '—', status: '—', met: null }
  return { target: t.target, status: t.met ? 'met' : 'MISSED', met: t.met }
}

/** A planned or actual length: hours under two days, else days. */
export function span(ms: number | null): string {
  return ms === null ? '—' : hours(ms / 3_600_000)
}

/** One line saying whether the program is halted and why. */
export function programLine(p: { halted: boolean; reason: string | null; actor: string | null; at: number }): string {
  return p.halted
    ? `PROGRAM HALTED since ${when(p.at)} by ${p.actor ?? '—'}: ${p.reason ?? 'no reason recorded'}. Nothing starts` +
        ` or advances until \`tandem program resume\`.`
    : 'The program is running.'
}
