// Regression tests for issue 12, defect 15: the dashboard showed a 67 % success score when nothing had
// been migrated. The score is null in the API and the JSON report, and a dash in the Markdown and
// HTML reports, until a system has been promoted or rolled back; then each term is clamped to [0, 1].
import { afterEach, expect, it } from 'vitest'
import { computeKpis } from '../../src/program/kpis.js'
import { buildReport } from '../../src/program/report-data.js'
import { renderHtml } from '../../src/program/report-html.js'
import { renderMarkdown } from '../../src/program/report-md.js'
import type { SystemFacts } from '../../src/program/system-facts.js'
import { call, startAdmin, TOKENS, type AdminHarness } from '../admin/harness.js'

let h: AdminHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

it('the admin API and the reports give no score until a promotion or rollback, then a clamped one', async () => {
  h = await startAdmin()
  const before = await call(h.url, 'GET', '/api/v1/report', { token: TOKENS.viewer })
  expect(before.status).toBe(200)
  expect(before.body.kpis).toHaveProperty('successScore', null)
  const report = await buildReport(h.deps.config(), h.store)
  expect(renderMarkdown(report)).toContain(
    '| Success score (`successScore`) | — (no system promoted or rolled back yet) |',
  )
  expect(renderHtml(report)).toContain('success score: shown once a system is promoted or rolled back')

  // Started (shadow) is not enough; a rollback is.
  await call(h.url, 'POST', '/api/v1/systems/todo-api/actions/start', { token: TOKENS.operator, body: { force: true } })
  expect((await call(h.url, 'GET', '/api/v1/report', { token: TOKENS.viewer })).body.kpis.successScore).toBeNull()
  await call(h.url, 'POST', '/api/v1/systems/todo-api/actions/rollback', { token: TOKENS.operator, body: {} })
  const after = (await call(h.url, 'GET', '/api/v1/report', { token: TOKENS.viewer })).body.kpis
  // [0/2, 0, clamp(1 - 1/1) = 0, 0.5 (one failed), clamp(0 + 1) = 1, 1 (no downtime)] = 2.5 / 6
  expect(after).toMatchObject({ rollbackCount: 1, failedMigrations: 1 })
  expect(after.successScore).toBeCloseTo(2.5 / 6, 10)
})

it('clamps each term: many rollbacks and nothing migrated never score below zero', () => {
  const rolledBack = (system: string): SystemFacts => ({
    system,
    stage: 'rolled-back',
    paused: false,
    weight: 0,
    startedAt: 1,
    promotedAt: null,
    completedAt: null,
    periodEnd: 2,
    matchRate: null,
    compared: 0,
    latencyChange: null,
    throughputChange: null,
    downtimeMinutes: 0,
    verdicts: { pass: 0, fail: 3, inconclusive: 0 },
    lastVerdict: 'fail',
    rollbacks: [1, 2, 3].map((at) => ({
      system,
      at,
      reason: 'errorRate',
      actor: 'controller',
      fromStage: 'canary',
      weight: 5,
    })),
  })
  const kpis = computeKpis([rolledBack('a'), rolledBack('b')], 0, 1)
  // [0, 0, clamp(1 - 6) = 0, 0.5, 1, 1] = 2.5 / 6 (unclamped it was -2.5 / 6)
  expect(kpis.successScore).toBeCloseTo(2.5 / 6, 10)
})
