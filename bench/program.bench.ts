// Cost of `tandem report` (KPIs + per-system facts) for the 52-system example program, on SQLite and
// PostgreSQL, against a peer in the same run: one raw GROUP BY over the same tables (the floor).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { sql } from 'kysely'
import { loadConfig } from '../src/config/load.js'
import { buildReport } from '../src/program/report-data.js'
import { openStore, type Store } from '../src/store/open.js'
import { withPostgresSchema } from '../test/support/postgres.js'
import { compareWindow, DAY, metricWindow, MINUTE, move } from '../test/program/seed.js'
import type { BenchSection } from './section.js'

const WINDOWS = 120
const ROUNDS = 8

async function seed(store: Store, systems: readonly string[], t0: number): Promise<void> {
  for (const [i, s] of systems.entries()) {
    const start = t0 + i * MINUTE
    await move(store, s, 'shadow', start, 'start')
    if (i % 3 === 0) await move(store, s, 'promoted', start + DAY, 'promote', 'bench', 100)
    else if (i % 7 === 0) await move(store, s, 'rolled-back', start + DAY, 'rollback', 'bench')
    for (let w = 0; w < WINDOWS; w++) {
      const ws = start + w * MINUTE
      await metricWindow(store, s, 'legacy', ws, ws + MINUTE, 100, 99, 50)
      await metricWindow(store, s, 'candidate', ws, ws + MINUTE, 100, 98, 45)
      await compareWindow(store, s, ws, ws + MINUTE, 95, 5)
    }
  }
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  await fn() // warm-up: statement caches, JIT
  const t = performance.now()
  for (let i = 0; i < ROUNDS; i++) await fn()
  return (performance.now() - t) / ROUNDS
}

export async function run(): Promise<BenchSection> {
  const config = await loadConfig(new URL('../examples/program/tandem.yaml', import.meta.url).pathname)
  const names = config.systems.map((s) => s.name)
  const t0 = Date.now() - 10 * DAY
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-program-'))
  const pg = await withPostgresSchema()
  const rows: Record<string, string | number>[] = []
  try {
    for (const [label, url] of [
      ['sqlite', `sqlite:${join(dir, 'bench.db')}`],
      ['postgres', pg.url],
    ] as const) {
      const store = await openStore(url)
      try {
        await seed(store, names, t0)
        const report = await time(() => buildReport(config, store, { failureDirs: [] }))
        const raw = await time(() =>
          sql`select system, arm, sum(requests), sum(successes), sum(mean_ms * requests)
              from metric_windows group by system, arm`
            .execute(store.db)
            .then(() =>
              sql`select system, sum(matches), sum(mismatches) from compare_windows group by system`.execute(store.db),
            ),
        )
        rows.push({
          store: label,
          'tandem report (ms)': report.toFixed(1),
          'raw GROUP BY peer (ms)': raw.toFixed(1),
          'ratio report/raw': (report / raw).toFixed(1),
        })
      } finally {
        await store.close()
      }
    }
  } finally {
    await pg.drop()
    await rm(dir, { recursive: true, force: true })
  }
  return {
    title: 'Program report',
    description:
      `Building the full report (KPIs, waves, ${names.length} system rows) from a store with ${WINDOWS}` +
      ` metric and comparison windows per system, mean of ${ROUNDS} rounds after a warm-up.`,
    rows,
    notes: [
      'The peer is two bare GROUP BY queries over the same tables: the least any report must read. The report also' +
        ' reads decisions and verdicts and filters each system to its current attempt.',
      'The report runs a few queries per system; at 52 systems this stays well under a second, so it reads the store' +
        ' directly rather than keeping counters.',
    ],
  }
}
