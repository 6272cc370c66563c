// Starts a real instance (createInstance, as `tandem up`) on loopback over a real SQLite store for the
// admin API tests, with a config holding one token per role (the viewer's read from the environment via env:).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import type { AdminServerOptions } from '../../src/admin/server.js'
import type { AdminDeps } from '../../src/admin/deps.js'
import { createInstance } from '../../src/instance/create-instance.js'
import { RequestMetrics } from '../../src/metrics/request-metrics.js'
import type { Arm } from '../../src/domain/stages.js'
import type { Store } from '../../src/store/open.js'

export const TOKENS = {
  viewer: 'viewer-token-0123456789',
  operator: 'operator-token-0123456789',
  admin: 'admin-token-0123456789abc',
} as const

export function configYaml(options: { tokens?: boolean; listen?: string } = {}): string {
  const tokens =
    options.tokens === false
      ? '[]'
      : `
    - { name: vera, role: viewer, token: "env:ADMIN_TEST_VIEWER" }
    - { name: otto, role: operator, token: "${TOKENS.operator}" }
    - { name: ada, role: admin, token: "${TOKENS.admin}" }`
  return `version: 1
# The controller acts on the tests' requests; none of them waits for an analysis interval.
defaults: { analysis: { interval: 1h } }
# The tests seed metric seconds of 2023 (t0); the instance's writer must not prune them while they run.
metrics: { retention: 10000d }
admin:
  listen: ${options.listen ?? '127.0.0.1:0'}
  tokens: ${tokens}
systems:
  - name: todo-api
    category: api
    priority: P0
    legacy: { url: http://127.0.0.1:9 }
    candidate: { url: http://127.0.0.1:9 }
    routes: [{ path: /todos/:id }]
    compare: { noise: { relative: 0.2, absolute: 0.0003 }, samplesPerField: 2 }
  - name: billing
    category: data-processing
    priority: P1
    legacy: { url: http://127.0.0.1:9 }
    candidate: { url: http://127.0.0.1:9 }
    routes: [{ path: /bills/** }]
waves:
  - { name: pilot, systems: { priority: [P0] } }
  - { name: main, systems: { priority: [P1, P2] } }
`
}

export const ENV = { ADMIN_TEST_VIEWER: TOKENS.viewer }

/** Latency (ms) of every request the gateway's metrics hold: legacy 20 ms, the candidate 30 ms. */
export const FIXED_LATENCY_MS = { legacy: 20, candidate: 30 } as const

/**
 * The gateway's metrics with fixed requests recorded through its real series in the first second of the
 * epoch (legacy 100 with 1 error, the candidate 50 with 5 errors, all on /todos/:id): the live metrics
 * endpoint's input, read through the instance's merged reader (its own seconds come from memory).
 */
function fixedMetrics(): RequestMetrics {
  const metrics = new RequestMetrics()
  const series = metrics.route('todo-api', '/todos/:id')
  const counts: Record<Arm, [number, number]> = { legacy: [100, 1], candidate: [50, 5] }
  for (const arm of ['legacy', 'candidate'] as const) {
    const [requests, errors] = counts[arm]
    for (let i = 0; i < requests; i++) series[arm].record(i < errors ? 500 : 200, FIXED_LATENCY_MS[arm], 1000 + i)
  }
  return metrics
}

export interface AdminHarness {
  readonly url: string
  readonly app: FastifyInstance
  readonly store: Store
  readonly deps: AdminDeps
  /** The actors of the configuration reloads that ran, as the instance logged them. */
  readonly reloads: string[]
  close(): Promise<void>
}

/**
 * A whole instance as `tandem up` builds it (createInstance: the real rollout controller, store, gateway
 * and admin listener) over a temporary directory. `control: 'none'` runs it without the controller.
 */
export async function startAdmin(
  options: { tokens?: boolean; control?: 'real' | 'none'; server?: AdminServerOptions } = {},
): Promise<AdminHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-admin-'))
  const configFile = join(dir, 'tandem.yaml')
  writeFileSync(configFile, `${configYaml({ tokens: options.tokens })}store: sqlite:${join(dir, 'tandem.db')}\n`)
  // The viewer's token is read from the environment (env:), at start and on every reload.
  Object.assign(process.env, ENV)
  const logs: string[] = []
  const instance = await createInstance({
    configFile,
    gatewayListen: '127.0.0.1:0',
    logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(line) }),
    drainMs: 1000,
    metrics: fixedMetrics(),
    admin: { dashboard: false, ...options.server },
    // The targets are not running: no health probes; failure reports stay in the temporary directory.
    controller: options.control === 'none' ? false : { healthChecks: false, failuresDir: join(dir, 'failures') },
  })
  return {
    url: instance.adminUrl,
    app: instance.admin,
    store: instance.store,
    deps: instance.deps,
    get reloads() {
      const records = logs.map((line) => JSON.parse(line) as { msg?: string; actor?: string })
      return records.filter((r) => r.msg === 'configuration reloaded').map((r) => r.actor ?? '')
    },
    close: async () => {
      await instance.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A JSON request with an optional bearer token (`headers` may override the content type). */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  // The admin API's JSON answers, read loosely by the tests of every endpoint (each asserts its own shape).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  // Mutating calls declare JSON even without a body, as the CLI and the dashboard do.
  if ((options.body !== undefined || method !== 'GET') && headers['content-type'] === undefined)
    headers['content-type'] = 'application/json'
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // Prometheus text and other non-JSON bodies stay strings.
  }
  return { status: res.status, body }
}
