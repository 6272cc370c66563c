// Seeds a store the way a running Tandem would have filled it: decisions through recordDecision,
// and verdicts, metric windows and comparison windows by direct insert. Also the program the KPI tests
// judge and the two store backends they run on.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach } from 'vitest'
import type { Config } from '../../src/config/schema.js'
import { openStore, type Store } from '../../src/store/open.js'
import { getState, recordDecision } from '../../src/store/system-state.js'
import type { Arm, Stage } from '../../src/domain/stages.js'
import { buildConfig, system, tandemConfig, type ConfigOptions } from '../support/config.js'
import { withPostgresSchema } from '../support/postgres.js'

export const HOUR = 3_600_000
export const DAY = 24 * HOUR
export const MINUTE = 60_000

/** Move a system to `stage` at time `at`, as the controller or an operator would. */
export async function move(
  store: Store,
  system: string,
  stage: Stage,
  at: number,
  action: string,
  reason = `${action} by test`,
  weight = 0,
): Promise<void> {
  const s = await getState(store, system)
  const change: Record<string, unknown> = { stage, weight }
  if (action === 'start' || action === 'retry') change.startedAt = at
  if (stage === 'promoted') change.promotedAt = at
  if (stage === 'completed') change.completedAt = at
  await recordDecision(store, system, s.version, change, { action, actor: 'test', reason }, at)
}

export async function compareWindow(
  store: Store,
  system: string,
  start: number,
  end: number,
  matches: number,
  mismatches: number,
): Promise<void> {
  await store.db
    .insertInto('compare_windows')
    .values({
      system,
      window_start: start,
      window_end: end,
      matches,
      mismatches,
      noise_only: 0,
      skipped: 0,
      candidate_errors: 0,
    })
    .execute()
}

export async function metricWindow(
  store: Store,
  system: string,
  arm: Arm,
  start: number,
  end: number,
  requests: number,
  successes: number,
  meanMs: number,
): Promise<void> {
  await store.db
    .insertInto('metric_windows')
    .values({
      system,
      route: '/**',
      arm,
      window_start: start,
      window_end: end,
      requests,
      errors: requests - successes,
      successes,
      p50_ms: meanMs,
      p95_ms: meanMs * 2,
      p99_ms: meanMs * 3,
      mean_ms: meanMs,
    })
    .execute()
}

export async function verdict(
  store: Store,
  system: string,
  at: number,
  result: 'pass' | 'fail' | 'inconclusive',
  matchRate: number,
): Promise<void> {
  const evidence = [
    {
      metric: 'matchRate',
      value: matchRate,
      threshold: '>= 0.8',
      samples: 100,
      window: { start: at - MINUTE, end: at },
      result,
    },
  ]
  await store.db
    .insertInto('verdicts')
    .values({
      system,
      at,
      stage: 'canary',
      step_index: 1,
      weight: 25,
      verdict: result,
      judge: 'threshold',
      score: null,
      window_start: at - MINUTE,
      window_end: at,
      evidence: JSON.stringify(evidence),
    })
    .execute()
}

/** A program of the systems `names` (nothing listens on their URLs), with any other top-level keys. */
export function program(names: readonly string[], extra: ConfigOptions = {}): Config {
  return buildConfig(tandemConfig({ systems: names.map((name) => system(name)), ...extra }))
}

type Backend = () => Promise<{ url: string; cleanup: () => Promise<void> }>

/** The store backends the KPI tests run on: a SQLite file and a PostgreSQL schema of their own. */
export const BACKENDS: [string, Backend][] = [
  [
    'sqlite',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tandem-kpi-'))
      return { url: `sqlite:${join(dir, 'kpi.db')}`, cleanup: () => rm(dir, { recursive: true, force: true }) }
    },
  ],
  [
    'postgres',
    async () => {
      const pg = await withPostgresSchema()
      return { url: pg.url, cleanup: pg.drop }
    },
  ],
]

/** Inside a describe: open a fresh store of `backend` before each test (handed to `use`), drop it after. */
export function freshStorePerTest(backend: Backend, use: (store: Store) => void): void {
  let store: Store
  let cleanup: () => Promise<void>
  beforeEach(async () => {
    const made = await backend()
    cleanup = made.cleanup
    store = await openStore(made.url)
    use(store)
  })
  afterEach(async () => {
    await store.close()
    await cleanup()
  })
}
