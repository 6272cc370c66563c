// Rows the dashboard tests seed in the store, in the shapes the comparison engine and the controller
// write them: a diff report with a sample, and a failing verdict with its evidence.
import type { Store } from '../../src/store/open.js'

/** A diff report and a verdict for todo-api, as a canary at 50 % would have produced them. */
export async function seedDiffsAndVerdict(store: Store): Promise<void> {
  await seedDiffs(store)
  await seedVerdict(store)
}

/** Rows in the shape src/compare/diff-store.ts writes them. */
async function seedDiffs(store: Store): Promise<void> {
  const now = Date.now()
  await store.db
    .insertInto('compare_routes')
    .values({
      system: 'todo-api',
      route: '/todos/:id',
      compared: 60,
      matches: 0,
      mismatches: 60,
      noise_only: 0,
      skipped: 0,
      candidate_errors: 6,
      updated_at: now,
    })
    .execute()
  await store.db
    .insertInto('compare_fields')
    .values({
      system: 'todo-api',
      route: '/todos/:id',
      path: '/done',
      kind: 'type',
      raw: 60,
      noise: 0,
      total: 60,
      updated_at: now,
    })
    .execute()
  const sample = {
    at: now,
    request: { method: 'GET', url: '/todos/7', headers: {}, body: null },
    legacy: {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { id: 7, title: 'todo 7', done: false },
    },
    candidate: {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { id: 7, title: 'todo 7', done: 0 },
    },
    differences: [{ path: '/done', field: '/done', kind: 'type', legacy: false, candidate: 0 }],
  }
  await store.db
    .insertInto('compare_samples')
    .values({ system: 'todo-api', route: '/todos/:id', path: '/done', at: now, sample: JSON.stringify(sample) })
    .execute()
}

/** A verdict row in the shape the controller stores it (src/store/verdicts.ts). */
async function seedVerdict(store: Store): Promise<void> {
  const now = Date.now()
  const window = { start: now - 10_000, end: now }
  const samples = { legacy: 30, candidate: 30 }
  const evidence = {
    reason: 'rollback.errorRate fired: 0.1 > 0.05',
    samples,
    promoteOk: false,
    rules: [
      {
        rule: 'rollback.errorRate',
        metric: 'errorRate',
        value: 0.1,
        baseline: null,
        limit: 0.05,
        threshold: '> 0.05',
        samples,
        window,
        result: 'fail',
        dryRun: false,
      },
      {
        rule: 'rollback.latencyP95',
        metric: 'latencyP95',
        value: 12,
        baseline: 5,
        limit: 10,
        threshold: '> 2x',
        samples,
        window,
        result: 'fail',
        dryRun: false,
      },
    ],
  }
  await store.db
    .insertInto('verdicts')
    .values({
      system: 'todo-api',
      at: now,
      stage: 'canary',
      step_index: 1,
      weight: 50,
      verdict: 'fail',
      judge: 'threshold',
      score: null,
      window_start: now - 10_000,
      window_end: now,
      evidence: JSON.stringify(evidence),
    })
    .execute()
}
