import { describe, expect, it } from 'vitest'
import { computeKpis } from './kpis.js'
import type { ProgramReport } from './report-data.js'
import { renderHtml } from './report-html.js'
import { renderMarkdown } from './report-md.js'
import { matchRateFromEvidence } from './system-facts.js'

const report: ProgramReport = {
  generatedAt: Date.UTC(2026, 0, 2),
  store: 'sqlite:.tandem/tandem.db',
  kpis: computeKpis([], null, Date.UTC(2026, 0, 2)),
  waves: [],
  unassigned: [],
  systems: [
    {
      name: 'pipe-api',
      kind: 'http',
      category: 'a|b',
      priority: 'P1',
      wave: null,
      stage: 'rolled-back',
      paused: true,
      weight: 0,
      matchRate: null,
      latencyChange: 0.125,
      throughputChange: -0.5,
      migrationHours: 72,
      startedAt: 1,
      promotedAt: null,
      verdicts: { pass: 1, fail: 2, inconclusive: 3 },
      lastVerdict: 'fail',
      rollbacks: 1,
    },
  ],
  rollbacks: [
    {
      system: 'pipe-api',
      at: Date.UTC(2026, 0, 1, 12),
      reason: 'errorRate <0.3> | high',
      actor: 'controller',
      fromStage: 'canary',
      weight: 5,
      failureReport: null,
      verification: {
        result: 'rollback-failed',
        reason: 'rollback failed: legacy health check failed',
        at: Date.UTC(2026, 0, 1, 12, 1),
      },
    },
  ],
  program: {
    halted: true,
    reason: 'mass failure: 3 systems of wave pilot rolled back',
    actor: 'controller',
    wave: 'pilot',
    at: Date.UTC(2026, 0, 1, 12, 2),
  },
  targets: [
    { kpi: 'validationSuccessRate', value: 0.85, target: '>= 0.8', met: true },
    { kpi: 'failedMigrations', value: 1, target: '== 0', met: false },
  ],
  wavePlans: [
    {
      wave: 'pilot',
      plannedMs: 3 * 86_400_000,
      startedAt: Date.UTC(2026, 0, 1),
      finishedAt: null,
      actualMs: 86_400_000,
      plannedEnd: Date.UTC(2026, 0, 4),
      projectedEnd: Date.UTC(2026, 0, 6),
      remaining: 2,
      late: true,
    },
  ],
}

describe('report rendering', () => {
  it('writes Markdown rows that survive pipes in values and say when a failure report is missing', () => {
    const md = renderMarkdown(report)
    expect(md).toContain(
      '| pipe-api | a\\|b | P1 | — | rolled-back (paused) | 0 % | — | +12.5 % | -50.0 % | 3.0 d | 1/2/3 | 1 |',
    )
    expect(md).toContain('### pipe-api at 2026-01-01 12:00:00Z')
    expect(md).toContain('- Failure report: none found')
    expect(md).toContain('No waves are declared.')
  })

  it('shows the halt, each KPI against its target, planned waves and the rollback verification', () => {
    const md = renderMarkdown(report)
    expect(md).toContain(
      '> **PROGRAM HALTED since 2026-01-01 12:02:00Z by controller: mass failure: 3 systems of wave pilot rolled back.',
    )
    expect(md).toContain('1 of 2 targets met.')
    expect(md).toContain('| Validation success rate (`validationSuccessRate`) | 0.0 % | >= 0.8 | met |')
    expect(md).toContain('| Failed migrations (`failedMigrations`) | 0 | == 0 | MISSED |')
    expect(md).toContain('| Rollbacks (`rollbackCount`) | 0 | — | — |')
    expect(md).toContain('| pilot | 3.0 d | 24.0 h | 2 | 2026-01-04 00:00:00Z | 2026-01-06 00:00:00Z | late |')
    expect(md).toContain('- Verification: **rollback-failed** (emergency): rollback failed: legacy health check failed')
    const html = renderHtml(report)
    expect(html).toContain('PROGRAM HALTED since 2026-01-01 12:02:00Z')
    expect(html).toContain('target == 0: MISSED')
    expect(html).toContain('rollback-failed: rollback failed: legacy health check failed')
  })

  it('escapes every value in the HTML report', () => {
    const html = renderHtml(report)
    expect(html).toContain('errorRate &lt;0.3&gt; | high')
    expect(html).not.toContain('<0.3>')
    expect(html).toContain('No failure report found for this rollback.')
  })

  it('reads the match rate from verdict evidence as a list or under `rules`', () => {
    const rule = { rule: 'promote.matchRate', metric: 'matchRate', value: 0.91 }
    expect(matchRateFromEvidence(JSON.stringify([{ metric: 'errorRate', value: 0.1 }, rule]))).toBe(0.91)
    expect(matchRateFromEvidence(JSON.stringify({ verdict: 'pass', rules: [rule] }))).toBe(0.91)
    expect(matchRateFromEvidence(JSON.stringify({ rules: [{ metric: 'matchRate', value: null }] }))).toBeNull()
    expect(matchRateFromEvidence('not json')).toBeNull()
  })
})
