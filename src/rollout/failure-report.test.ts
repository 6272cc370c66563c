import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readDiffReport } from '../compare/diff-report.js'
import { parseConfig } from '../config/load.js'
import { writeComparisons } from '../store/comparisons.js'
import { saveMetricWindows, type ArmCounts } from '../store/metric-windows.js'
import { openStore, type Store } from '../store/open.js'
import { initialState } from '../store/system-state.js'
import { writeFailureReport } from './failure-report.js'

const config = parseConfig(`
version: 1
systems:
  - name: shop
    legacy: { url: http://127.0.0.1:1 }
    candidate: { url: http://127.0.0.1:2 }
    routes: [{ path: /** }]
    compare: { samplesPerField: 2 }
`)
const system = config.systems[0]!

const arm = (requests: number, errors: number): ArmCounts => ({
  requests,
  errors,
  successes: requests - errors,
  latency: { p50: 10, p95: 20, p99: 30, mean: 12 },
})

let dir: string
let store: Store
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-failure-report-'))
  store = await openStore(`sqlite:${join(dir, 'tandem.db')}`)
})
afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('writeFailureReport', () => {
  it('holds the SPEC 5 fields, the stored windows and the diff report per field, with `real`', async () => {
    const t0 = 1_700_000_000_000
    const sample = (n: number) => JSON.stringify({ request: { url: `/orders/${n}` }, differences: ['/total'] })
    const at = { system: 'shop', route: '/orders/:id' }
    await writeComparisons(
      store,
      {
        routes: [{ ...at, compared: 10, matches: 4, mismatches: 6, noiseOnly: 0, skipped: 1, candidateErrors: 0 }],
        fields: [
          { ...at, path: '/total', kind: 'changed', raw: 6, noise: 0 },
          { ...at, path: '/ts', kind: 'changed', raw: 5, noise: 5 },
        ],
        samples: [1, 2, 3].map((n) => ({ ...at, path: '/total', at: t0 + n, sample: sample(n) })),
        skips: [{ ...at, reason: 'truncated', count: 1 }],
        windows: [],
      },
      t0,
    )
    const source = { routes: () => [{ route: '/orders/:id', legacy: arm(10, 0), candidate: arm(10, 3) }] }
    for (let w = 0; w < 45; w++) await saveMetricWindows(store, source, 'shop', t0 + w * 1000, t0 + (w + 1) * 1000)

    const before = { ...initialState('shop', t0), stage: 'canary' as const, weight: 25, stepIndex: 0 }
    const input = { system, at: t0 + 60_000, reason: 'errorRate', before, evidence: { rules: [] } }
    const file = await writeFailureReport(join(dir, 'failures'), store, input)
    const report = JSON.parse(readFileSync(file, 'utf8'))

    const spec5 = ['system', 'timestamp', 'reason', 'stage', 'weight', 'evidence', 'recentDecisions', 'metrics']
    expect(Object.keys(report)).toEqual([...spec5, 'diffs'])
    expect(report).toMatchObject({ system: 'shop', reason: 'errorRate', stage: 'canary', weight: 25 })
    expect(report.recentDecisions).toEqual([])
    // The diffs are the diff report's, as the admin API and `tandem diffs` show them.
    expect(report.diffs).toEqual((await readDiffReport(store, system)).routes)
    expect(report.diffs[0]).toMatchObject({ route: '/orders/:id', mismatches: 6, skippedReasons: { truncated: 1 } })
    expect(report.diffs[0].fields).toMatchObject([
      { path: '/total', raw: 6, noise: 0, total: 10, real: true },
      { path: '/ts', raw: 5, noise: 5, total: 10, real: false },
    ])
    // samplesPerField (2), newest first.
    expect(report.diffs[0].fields[0].samples.map((s: { request: { url: string } }) => s.request.url)).toEqual([
      '/orders/3',
      '/orders/2',
    ])
    // The newest 40 persisted windows, oldest first, both arms.
    const history = report.metrics.history
    expect(history).toHaveLength(40)
    expect(history[0]).toEqual({
      route: '/orders/:id',
      arm: 'legacy',
      windowStart: t0 + 25_000,
      windowEnd: t0 + 26_000,
      requests: 10,
      errors: 0,
      successes: 10,
      p50Ms: 10,
      p95Ms: 20,
      p99Ms: 30,
      meanMs: 12,
    })
    expect(history.at(-1)).toMatchObject({ arm: 'candidate', windowStart: t0 + 44_000, errors: 3 })
  })
})
