// KPIs against values worked out by hand, on SQLite and on PostgreSQL, from a seeded store.
import { describe, expect, it } from 'vitest'
import { programKpis } from '../../src/program/kpis.js'
import type { Store } from '../../src/store/open.js'
import {
  BACKENDS,
  compareWindow,
  DAY,
  freshStorePerTest,
  HOUR,
  metricWindow,
  MINUTE,
  move,
  program,
  verdict,
} from './seed.js'

const config = program(['a', 'b', 'c', 'd'])

const T0 = Date.UTC(2026, 0, 1)

describe.each(BACKENDS)('KPIs on %s', (_name, backend) => {
  let store: Store
  freshStorePerTest(backend, (s) => (store = s))

  it('nothing migrated: zeros, and no success score until a system is promoted or rolled back', async () => {
    const { kpis } = await programKpis(config, store, T0)
    expect(kpis).toEqual({
      systemsMigrated: 0,
      systemsTotal: 4,
      migrationRate: 0,
      validationSuccessRate: 0,
      rollbackCount: 0,
      failedMigrations: 0,
      avgThroughputImprovement: 0,
      avgLatencyChange: 0,
      avgMigrationTimeHours: 0,
      totalDowntimeMinutes: 0,
      // The terms would be [0/4, 0, 1, 1, 1, 1] = 4/6: defaults, not a result (issue 12, defect 15).
      successScore: null,
    })
  })

  it('systems started but none promoted or rolled back: still no success score', async () => {
    await move(store, 'a', 'shadow', T0, 'start')
    await move(store, 'b', 'canary', T0 + HOUR, 'advance', 'step 2', 25)
    const { kpis } = await programKpis(config, store, T0 + DAY)
    expect(kpis).toMatchObject({ systemsMigrated: 0, rollbackCount: 0, successScore: null })
  })

  it('everything rolled back: four rollbacks, four failed migrations', async () => {
    for (const [i, s] of ['a', 'b', 'c', 'd'].entries()) {
      await move(store, s, 'shadow', T0 + i * HOUR, 'start')
      await move(store, s, 'rolled-back', T0 + i * HOUR + 30 * MINUTE, 'rollback', `errorRate 0.3 > 0.05 on ${s}`)
    }
    // a: one 1-minute window in which every request failed -> 1 minute of downtime.
    await metricWindow(store, 'a', 'candidate', T0 + 10 * MINUTE, T0 + 11 * MINUTE, 10, 0, 50)
    const { kpis } = await programKpis(config, store, T0 + 2 * DAY)
    expect(kpis).toMatchObject({
      systemsMigrated: 0,
      systemsTotal: 4,
      migrationRate: 0, // 0 systems / 2 days
      validationSuccessRate: 0,
      rollbackCount: 4,
      failedMigrations: 4,
      avgMigrationTimeHours: 0,
      totalDowntimeMinutes: 1,
    })
    // mean of [0, 0, clamp(1 - 4/max(0,1) = -3) = 0, 0.5, clamp(0 + 1) = 1, 0.8] = 2.3 / 6: every term
    // is clamped to [0, 1], so many rollbacks cannot push the score below zero.
    expect(kpis.successScore).toBeCloseTo(2.3 / 6, 10)
  })

  it('a mix: two migrated, one failed, one retried after a rollback', async () => {
    // a: start T0, canary at T0+1h, promoted at T0+10h.
    await move(store, 'a', 'shadow', T0, 'start')
    await move(store, 'a', 'canary', T0 + HOUR, 'advance', 'step 2', 25)
    await move(store, 'a', 'promoted', T0 + 10 * HOUR, 'promote', 'promote rule passed', 100)
    await compareWindow(store, 'a', T0, T0 + 5 * HOUR, 90, 10) // 90 / 100 = 0.9 at promotion
    await compareWindow(store, 'a', T0 + 11 * HOUR, T0 + 12 * HOUR, 0, 50) // after promotion: not counted
    await metricWindow(store, 'a', 'legacy', T0 + HOUR, T0 + HOUR + MINUTE, 100, 95, 200)
    await metricWindow(store, 'a', 'legacy', T0 + 2 * HOUR, T0 + 2 * HOUR + MINUTE, 300, 285, 100)
    await metricWindow(store, 'a', 'candidate', T0 + HOUR, T0 + HOUR + MINUTE, 100, 99, 150)
    // a: legacy mean latency (100*200 + 300*100) / 400 = 125, candidate 150 -> 150/125 - 1 = +0.2
    //    legacy successes/request 380/400 = 0.95, candidate 99/100 = 0.99 -> 0.99/0.95 - 1 = 0.0421052631...

    // b: start T0+1d, promoted T0+1d+20h, completed T0+2d; match rate from the last verdict's evidence.
    await move(store, 'b', 'shadow', T0 + DAY, 'start')
    await move(store, 'b', 'promoted', T0 + DAY + 20 * HOUR, 'promote', 'promote rule passed', 100)
    await move(store, 'b', 'completed', T0 + 2 * DAY, 'finalize', 'legacy retired', 100)
    await verdict(store, 'b', T0 + DAY + 2 * HOUR, 'fail', 0.6)
    await verdict(store, 'b', T0 + DAY + 19 * HOUR, 'pass', 0.8)
    await metricWindow(store, 'b', 'legacy', T0 + DAY + HOUR, T0 + DAY + HOUR + MINUTE, 200, 200, 100)
    await metricWindow(store, 'b', 'candidate', T0 + DAY + HOUR, T0 + DAY + HOUR + MINUTE, 200, 180, 90)
    // b: latency 90/100 - 1 = -0.1; throughput (180/200)/(200/200) - 1 = -0.1

    // c: start T0+2d, rolled back T0+2d+2h and left there (a failed migration); 2 minutes fully down.
    await move(store, 'c', 'shadow', T0 + 2 * DAY, 'start')
    await move(store, 'c', 'rolled-back', T0 + 2 * DAY + 2 * HOUR, 'rollback', 'errorRate 0.2 > 0.05')
    await metricWindow(store, 'c', 'candidate', T0 + 2 * DAY + HOUR, T0 + 2 * DAY + HOUR + 2 * MINUTE, 50, 0, 10)

    // d: start T0+3d, rolled back after 1h, retried 1h later, still in shadow: a rollback but not a failure.
    await move(store, 'd', 'shadow', T0 + 3 * DAY, 'start')
    await move(store, 'd', 'rolled-back', T0 + 3 * DAY + HOUR, 'rollback', 'latencyP95 3x > 2x')
    await move(store, 'd', 'shadow', T0 + 3 * DAY + 2 * HOUR, 'retry')

    const { kpis, facts } = await programKpis(config, store, T0 + 4 * DAY)
    const throughputA = 0.99 / 0.95 - 1
    expect(facts.find((f) => f.system === 'a')).toMatchObject({
      matchRate: 0.9,
      latencyChange: expect.closeTo(0.2, 10),
      throughputChange: expect.closeTo(throughputA, 10),
    })
    expect(facts.find((f) => f.system === 'b')?.matchRate).toBe(0.8)
    expect(facts.find((f) => f.system === 'd')?.startedAt).toBe(T0 + 3 * DAY + 2 * HOUR)
    expect(kpis).toEqual({
      systemsMigrated: 2, // a promoted, b completed
      systemsTotal: 4,
      migrationRate: 0.5, // 2 systems / 4 days since the first start
      validationSuccessRate: expect.closeTo((0.9 + 0.8) / 2, 10), // 0.85
      rollbackCount: 2, // c and d
      failedMigrations: 1, // c: rolled back and not retried
      avgThroughputImprovement: expect.closeTo((throughputA - 0.1) / 2, 10), // -0.0289473684
      avgLatencyChange: expect.closeTo((0.2 - 0.1) / 2, 10), // 0.05
      avgMigrationTimeHours: 15, // (10h + 20h) / 2
      totalDowntimeMinutes: 2,
      // mean of [2/4, 0.85, 1 - 2/2, 0.5, clamp(1 - 0.0289473684) = 0.9710526316, 0.8] = 3.6210526316 / 6
      successScore: expect.closeTo((0.5 + 0.85 + 0 + 0.5 + (1 + (throughputA - 0.1) / 2) + 0.8) / 6, 10),
    })
    expect(kpis.successScore).toBeCloseTo(0.6035087719, 8)
  })
})
