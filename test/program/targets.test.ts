// KPI targets (program.targets) against values worked out by hand, on SQLite and on PostgreSQL, and
// `tandem report --check` failing a CI pipeline when a target is missed.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { programKpis } from '../../src/program/kpis.js'
import { buildReport } from '../../src/program/report-data.js'
import { evaluateTargets, type TargetResult } from '../../src/program/targets.js'
import { openStore, type Store } from '../../src/store/open.js'
import { tandem } from '../support/cli.js'
import { system, tandemConfig, writeConfig, type ConfigOptions } from '../support/config.js'
import { temporaryDir } from '../support/temp-dir.js'
import { BACKENDS, compareWindow, freshStorePerTest, HOUR, metricWindow, MINUTE, move, program } from './seed.js'

const PILOT: ConfigOptions = { waves: [{ name: 'pilot', systems: { names: ['a', 'b', 'c'] }, duration: '2d' }] }
const config = program(['a', 'b', 'c'], PILOT)
const T0 = Date.UTC(2026, 0, 1)

/** a: promoted after 1.5 h, 90/100 matches, latency 105 vs 100 ms, successes 0.75 vs 0.5 per request. */
async function seedGoodMigration(store: Store): Promise<void> {
  await move(store, 'a', 'shadow', T0, 'start')
  await move(store, 'a', 'promoted', T0 + 1.5 * HOUR, 'promote', 'promote rule passed', 100)
  await compareWindow(store, 'a', T0, T0 + HOUR, 90, 10)
  await metricWindow(store, 'a', 'legacy', T0 + 10 * MINUTE, T0 + 11 * MINUTE, 100, 50, 100)
  await metricWindow(store, 'a', 'candidate', T0 + 10 * MINUTE, T0 + 11 * MINUTE, 100, 75, 105)
}

/** c: rolled back and left there, with 2 minutes in which no request succeeded. */
async function seedFailedMigration(store: Store): Promise<void> {
  await move(store, 'c', 'shadow', T0 + 2 * HOUR, 'start')
  await move(store, 'c', 'rolled-back', T0 + 3 * HOUR, 'rollback', 'errorRate 0.3 > 0.05')
  await metricWindow(store, 'c', 'candidate', T0 + 2 * HOUR, T0 + 2 * HOUR + 2 * MINUTE, 50, 0, 10)
}

const metOf = (results: readonly TargetResult[]) => Object.fromEntries(results.map((r) => [r.kpi, r.met]))

describe.each(BACKENDS)('KPI targets on %s', (_name, backend) => {
  let store: Store
  freshStorePerTest(backend, (s) => (store = s))

  it('an empty program misses validation (0 < 0.8) and throughput (0 < 0.2), meets the other five', async () => {
    const { kpis } = await programKpis(config, store, T0)
    const results = evaluateTargets(kpis, config.program.targets)
    expect(results.map((r) => `${r.kpi} ${r.target}`)).toEqual([
      'validationSuccessRate >= 0.8',
      'rollbackCount < 5',
      'failedMigrations == 0',
      'avgThroughputImprovement >= 0.2',
      'avgLatencyChange <= 0.1',
      'avgMigrationTimeHours < 2',
      'totalDowntimeMinutes == 0',
    ])
    expect(metOf(results)).toEqual({
      validationSuccessRate: false,
      rollbackCount: true,
      failedMigrations: true,
      avgThroughputImprovement: false,
      avgLatencyChange: true,
      avgMigrationTimeHours: true,
      totalDowntimeMinutes: true,
    })
  })

  it('one good migration meets all seven targets', async () => {
    await seedGoodMigration(store)
    const { kpis } = await programKpis(config, store, T0 + 4 * HOUR)
    // 90/100 = 0.9 >= 0.8; 0 rollbacks < 5; 0 failed; 0.75/0.5 - 1 = +0.5 >= 0.2; 105/100 - 1 = +0.05 <= 0.1;
    // 1.5 h < 2 h; no window without a success.
    expect(kpis).toMatchObject({
      validationSuccessRate: 0.9,
      rollbackCount: 0,
      failedMigrations: 0,
      avgMigrationTimeHours: 1.5,
      totalDowntimeMinutes: 0,
    })
    expect(kpis.avgThroughputImprovement).toBeCloseTo(0.5, 10)
    expect(kpis.avgLatencyChange).toBeCloseTo(0.05, 10)
    expect(evaluateTargets(kpis, config.program.targets).every((r) => r.met)).toBe(true)
  })

  it(
    'a failed migration beside it misses failedMigrations ' + '(1) and downtime (2 min), and the report says so',
    async () => {
      await seedGoodMigration(store)
      await seedFailedMigration(store)
      const report = await buildReport(config, store, { now: T0 + 4 * HOUR, failureDirs: [] })
      expect(report.kpis).toMatchObject({ rollbackCount: 1, failedMigrations: 1, totalDowntimeMinutes: 2 })
      expect(metOf(report.targets)).toEqual({
        validationSuccessRate: true,
        rollbackCount: true, // 1 < 5
        failedMigrations: false, // 1 != 0
        avgThroughputImprovement: true, // c is not migrated: a's +0.5 only
        avgLatencyChange: true,
        avgMigrationTimeHours: true,
        totalDowntimeMinutes: false, // 2 != 0
      })
      // Planned waves: pilot started at T0, 2 days planned, 1 of 3 done after 4 h. The migration rate is
      // 1 system / max(1, 4 h / 1 day) = 1 per day, so the 2 remaining systems end 2 days from now.
      expect(report.wavePlans).toEqual([
        {
          wave: 'pilot',
          plannedMs: 2 * 24 * HOUR,
          startedAt: T0,
          finishedAt: null,
          actualMs: 4 * HOUR,
          plannedEnd: T0 + 48 * HOUR,
          projectedEnd: T0 + 4 * HOUR + 48 * HOUR,
          remaining: 2,
          late: true,
        },
      ])
    },
  )

  it('honours targets written in the config, and `off`', async () => {
    await seedGoodMigration(store)
    await seedFailedMigration(store)
    const custom = program(['a', 'b', 'c'], {
      ...PILOT,
      program: { targets: { rollbackCount: '< 1', failedMigrations: '<= 1', totalDowntimeMinutes: 'off' } },
    })
    const { kpis } = await programKpis(custom, store, T0 + 4 * HOUR)
    const results = evaluateTargets(kpis, custom.program.targets)
    expect(results.map((r) => r.kpi)).not.toContain('totalDowntimeMinutes')
    expect(metOf(results)).toMatchObject({ rollbackCount: false, failedMigrations: true })
  })
})

describe('tandem report --check', () => {
  it('exits 0 when every target is met and 1 with TANDEM_ERR_TARGETS_MISSED when one is missed', async () => {
    const dir = temporaryDir('tandem-report-check-')
    const file = writeConfig(dir, tandemConfig({ dir, systems: ['a', 'b', 'c'].map((name) => system(name)), ...PILOT }))
    const store = await openStore(`sqlite:${join(dir, 'tandem.db')}`)
    await seedGoodMigration(store)
    await store.close()

    const ok = await tandem(['report', '-c', file, '--check', '--format', 'md'])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('7 of 7 targets met.')

    const reopened = await openStore(`sqlite:${join(dir, 'tandem.db')}`)
    await seedFailedMigration(reopened)
    await reopened.close()
    const missed = await tandem(['report', '-c', file, '--check', '--format', 'md'])
    expect(missed.code).toBe(1)
    expect(missed.stdout).toContain('| Failed migrations (`failedMigrations`) | 1 | == 0 | MISSED |')
    expect(missed.stderr).toContain('TANDEM_ERR_TARGETS_MISSED')
    expect(missed.stderr).toContain('failedMigrations 1 not == 0, totalDowntimeMinutes 2 not == 0')
    // Without --check the report is only a report.
    expect((await tandem(['report', '-c', file, '--format', 'json'])).code).toBe(0)
  })
})
