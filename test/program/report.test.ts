// `tandem report` on a seeded store: KPIs, per-wave progress, per-system rows, rollbacks paired with the
// failure reports the rollout controller writes under .tandem/failures.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../src/store/open.js'
import { tandem } from '../support/cli.js'
import { system, tandemConfig, writeConfig } from '../support/config.js'
import { compareWindow, DAY, HOUR, metricWindow, MINUTE, move } from './seed.js'

const T0 = Date.now() - 3 * DAY

describe('tandem report', () => {
  let dir: string
  let config: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-report-'))
    config = writeConfig(
      dir,
      tandemConfig({
        // Relative to the working directory the report runs in (dir), as failure reports are.
        store: 'sqlite:.tandem/tandem.db',
        systems: [
          system('auth-api', { category: 'api', priority: 'P0' }),
          system('todo-api', { category: 'todo', priority: 'P0' }),
          system('billing-api', { category: 'api', priority: 'P1' }),
          system('lab-x', { category: 'exp <b>', priority: 'P4' }),
        ],
        waves: [
          { name: 'pilot', systems: { priority: ['P0'] }, rollback: 'easy', maxConcurrent: 2 },
          { name: 'expansion', systems: { priority: ['P1'] }, rollback: 'feasible' },
        ],
      }),
    )
    const store = await openStore(`sqlite:${join(dir, '.tandem/tandem.db')}`)
    try {
      await move(store, 'auth-api', 'shadow', T0, 'start')
      await move(store, 'auth-api', 'promoted', T0 + 6 * HOUR, 'promote', 'promote rule passed', 100)
      await compareWindow(store, 'auth-api', T0, T0 + HOUR, 95, 5)
      await metricWindow(store, 'auth-api', 'legacy', T0 + HOUR, T0 + HOUR + MINUTE, 100, 100, 100)
      await metricWindow(store, 'auth-api', 'candidate', T0 + HOUR, T0 + HOUR + MINUTE, 100, 100, 80)
      await move(store, 'todo-api', 'shadow', T0 + DAY, 'start')
      await move(store, 'todo-api', 'canary', T0 + DAY + HOUR, 'advance', 'step 2', 5)
      await move(store, 'todo-api', 'rolled-back', T0 + DAY + 2 * HOUR, 'rollback', 'errorRate 0.12 > 0.05', 0)
    } finally {
      await store.close()
    }
    await mkdir(join(dir, '.tandem/failures'), { recursive: true })
    const failure = {
      system: 'todo-api',
      timestamp: new Date(T0 + DAY + 2 * HOUR + 1500).toISOString(),
      reason: 'errorRate 0.12 > 0.05',
      stage: 'canary',
      weight: 5,
      evidence: [{ rule: 'rollback.errorRate', metric: 'errorRate', value: 0.12, threshold: '> 0.05', result: 'fail' }],
      recentDecisions: [{ action: 'advance', reason: 'step 2' }],
      metrics: { candidate: { requests: 250, errors: 30 } },
      diffs: [{ route: '/todos/:id', path: '/due', kind: 'changed' }],
    }
    await writeFile(join(dir, '.tandem/failures/todo-api_20260101_020001.json'), JSON.stringify(failure))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('gives KPIs, waves, a row per system and rollbacks with their failure report as JSON', async () => {
    const r = await tandem(['report', '-c', config, '--format', 'json'], dir)
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.kpis).toMatchObject({
      systemsMigrated: 1,
      systemsTotal: 4,
      rollbackCount: 1,
      failedMigrations: 1,
      validationSuccessRate: 0.95,
      avgMigrationTimeHours: 6,
    })
    expect(report.kpis.avgLatencyChange).toBeCloseTo(-0.2, 10)
    expect(report.waves).toMatchObject([
      { name: 'pilot', systems: ['auth-api', 'todo-api'], open: true, counts: { promoted: 1, 'rolled-back': 1 } },
      { name: 'expansion', systems: ['billing-api'], open: false },
    ])
    expect(report.waves[1].reason).toContain('todo-api (pilot, rolled-back)')
    expect(report.unassigned).toEqual(['lab-x'])
    const auth = report.systems.find((s: { name: string }) => s.name === 'auth-api')
    expect(auth).toMatchObject({ stage: 'promoted', wave: 'pilot', matchRate: 0.95, migrationHours: 6 })
    expect(report.rollbacks).toHaveLength(1)
    expect(report.rollbacks[0]).toMatchObject({
      system: 'todo-api',
      reason: 'errorRate 0.12 > 0.05',
      fromStage: 'canary',
    })
    expect(report.rollbacks[0].failureReport.content.diffs[0].path).toBe('/due')
  })

  it('renders Markdown with the KPI table, waves, systems and the failure report', async () => {
    const r = await tandem(['report', '-c', config, '--format', 'md'], dir)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('| Systems migrated (`systemsMigrated`) | 1 / 4 |')
    expect(r.stdout).toContain(
      '| auth-api | api | P0 | pilot | promoted | 100 % | 95.0 % | -20.0 % | 0.0 % | 6.0 h | 0/0/0 | 0 |',
    )
    expect(r.stdout).toMatch(/### todo-api at .*\n\n- Reason: errorRate 0.12 > 0.05/)
    expect(r.stdout).toContain('"rule": "rollback.errorRate"')
  })

  it('writes one self-contained HTML file with inline charts and escaped text', async () => {
    const out = join(dir, 'report.html')
    const r = await tandem(['report', '-c', config, '--format', 'html', '--output', out], dir)
    expect(r.code, r.stderr).toBe(0)
    const html = await readFile(out, 'utf8')
    expect(html.startsWith('<!doctype html>')).toBe(true)
    expect(html).toContain('<style>')
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(3)
    // Nothing is fetched: no script, no external stylesheet, image or font.
    expect(html).not.toMatch(/<script|<link |src=|url\(|@import/i)
    expect(html).toContain('exp &lt;b&gt;')
    expect(html).not.toContain('exp <b>')
    expect(html).toContain('errorRate 0.12 &gt; 0.05')
  })

  it('exits 2 with a coded error when the output file cannot be written', async () => {
    const r = await tandem(
      ['report', '-c', config, '--format', 'md', '--output', join(dir, 'missing-dir/report.md')],
      dir,
    )
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('TANDEM_ERR_REPORT_WRITE')
  })
})
