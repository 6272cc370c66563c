// A running tandem for the browser tests: createInstance (what `tandem up` runs) with the rollout
// controller, over two loopback sample services (legacy and candidate) and a SQLite store. Diff and
// verdict rows are seeded in the store in the shapes the comparison engine and controller write them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { createInstance } from '../../src/instance/create-instance.js'
import type { Store } from '../../src/store/open.js'

export const TOKENS = { viewer: 'browser-viewer-token-0001', operator: 'browser-operator-token-001' } as const

async function sampleService(arm: 'legacy' | 'candidate'): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const id = Number(req.url?.split('/').pop() ?? 0)
    // The candidate renders `done` as 0/1 and is a little slower: a real difference to find.
    const body = arm === 'legacy' ? { id, title: `todo ${id}`, done: false } : { id, title: `todo ${id}`, done: 0 }
    setTimeout(() => {
      res.writeHead(arm === 'candidate' && id % 10 === 9 ? 500 : 200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }, arm === 'legacy' ? 2 : 6)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

export interface Stack {
  readonly adminUrl: string
  readonly gatewayUrl: string
  readonly store: Store
  close(): Promise<void>
}

/** `tokens: false` runs the loopback default: no admin.tokens, every caller the anonymous admin. */
export async function startStack(options: { tokens?: boolean } = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-browser-'))
  const legacy = await sampleService('legacy')
  const candidate = await sampleService('candidate')
  const yaml = `version: 1
admin:
  listen: 127.0.0.1:0
  tokens:${options.tokens === false ? ' []' : `
    - { name: vera, role: viewer, token: ${TOKENS.viewer} }
    - { name: otto, role: operator, token: ${TOKENS.operator} }`}
store: sqlite:${join(dir, 'tandem.db')}
systems:
  - name: todo-api
    category: api
    priority: P0
    legacy: { url: ${legacy.url} }
    candidate: { url: ${candidate.url} }
    routes: [{ path: /todos/:id, methods: [GET] }]
    rollout:
      stickiness: random
      steps: [{ shadow: 1h }, { weight: 50, pause: 1h }, { weight: 100 }]
    analysis: { interval: 1h }
  - name: billing
    category: data-processing
    priority: P1
    legacy: { url: ${legacy.url} }
    candidate: { url: ${candidate.url} }
    routes: [{ path: /bills/** }]
waves:
  - { name: pilot, systems: { priority: [P0] } }
  - { name: main, systems: { priority: [P1] } }
`
  const file = join(dir, 'tandem.yaml')
  writeFileSync(file, yaml)
  const instance = await createInstance({
    configFile: file,
    gatewayListen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    drainMs: 1000,
    // Diffs are seeded below; the comparison engine would only count what this traffic does not mirror.
    comparisons: false,
    controller: { healthChecks: false, failuresDir: join(dir, 'failures') },
  })
  const control = instance.controller
  const store = instance.store
  // Into canary at 50 %, as an operator would, then real traffic through the gateway.
  await control!.act('todo-api', 'start', { actor: 'setup', force: true, reason: 'browser test' })
  await control!.act('todo-api', 'advance', { actor: 'setup', reason: 'to canary' })
  const gatewayUrl = instance.gatewayUrl
  for (let i = 0; i < 60; i += 1) {
    const res = await fetch(`${gatewayUrl}/todos/${i}`)
    await res.arrayBuffer()
  }
  await seedDiffs(store)
  await seedVerdict(store)
  const adminUrl = instance.adminUrl
  return {
    adminUrl,
    gatewayUrl,
    store,
    close: async () => {
      await instance.close()
      await new Promise((r) => legacy.server.close(r))
      await new Promise((r) => candidate.server.close(r))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Rows in the shape src/compare/diff-store.ts writes them. */
async function seedDiffs(store: Store): Promise<void> {
  const now = Date.now()
  await store.db
    .insertInto('compare_routes')
    .values({ system: 'todo-api', route: '/todos/:id', compared: 60, matches: 0, mismatches: 60, noise_only: 0, skipped: 0, candidate_errors: 6, updated_at: now })
    .execute()
  await store.db.insertInto('compare_fields').values({ system: 'todo-api', route: '/todos/:id', path: '/done', kind: 'type', raw: 60, noise: 0, total: 60, updated_at: now }).execute()
  const sample = {
    at: now,
    request: { method: 'GET', url: '/todos/7', headers: {}, body: null },
    legacy: { status: 200, headers: { 'content-type': 'application/json' }, body: { id: 7, title: 'todo 7', done: false } },
    candidate: { status: 200, headers: { 'content-type': 'application/json' }, body: { id: 7, title: 'todo 7', done: 0 } },
    differences: [{ path: '/done', field: '/done', kind: 'type', legacy: false, candidate: 0 }],
  }
  await store.db.insertInto('compare_samples').values({ system: 'todo-api', route: '/todos/:id', path: '/done', at: now, sample: JSON.stringify(sample) }).execute()
}

/** A verdict row in the shape the controller stores it (src/rollout/records.ts). */
async function seedVerdict(store: Store): Promise<void> {
  const now = Date.now()
  const window = { start: now - 10_000, end: now }
  const samples = { legacy: 30, candidate: 30 }
  const evidence = {
    reason: 'rollback.errorRate fired: 0.1 > 0.05',
    samples,
    promoteOk: false,
    rules: [
      { rule: 'rollback.errorRate', metric: 'errorRate', value: 0.1, baseline: null, limit: 0.05, threshold: '> 0.05', samples, window, result: 'fail', dryRun: false },
      { rule: 'rollback.latencyP95', metric: 'latencyP95', value: 12, baseline: 5, limit: 10, threshold: '> 2x', samples, window, result: 'fail', dryRun: false },
    ],
  }
  await store.db
    .insertInto('verdicts')
    .values({ system: 'todo-api', at: now, stage: 'canary', step_index: 1, weight: 50, verdict: 'fail', judge: 'threshold', score: null, window_start: now - 10_000, window_end: now, evidence: JSON.stringify(evidence) })
    .execute()
}
