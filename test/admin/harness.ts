// Starts a real admin server on loopback over a real SQLite store for the admin API tests, with a
// config holding one token per role (the viewer's read from the environment via env:).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { createAdminServer, type AdminServerOptions } from '../../src/admin/server.js'
import type { AdminDeps } from '../../src/admin/deps.js'
import { parseConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import { RoutingTable } from '../../src/domain/routing-table.js'
import type { ArmWindow, MetricsReader } from '../../src/metrics/reader.js'
import type { RolloutControl } from '../../src/rollout/control.js'
import { openStore, type Store } from '../../src/store/open.js'
import { StoreControl } from './store-control.js'

export const TOKENS = {
  viewer: 'viewer-token-0123456789',
  operator: 'operator-token-0123456789',
  admin: 'admin-token-0123456789abc',
} as const

export function configYaml(options: { tokens?: boolean; listen?: string } = {}): string {
  const tokens = options.tokens === false
    ? '[]'
    : `
    - { name: vera, role: viewer, token: "env:ADMIN_TEST_VIEWER" }
    - { name: otto, role: operator, token: "${TOKENS.operator}" }
    - { name: ada, role: admin, token: "${TOKENS.admin}" }`
  return `version: 1
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

/** A MetricsReader over fixed per-arm numbers: the live metrics endpoint's input. */
export function fixedMetrics(): MetricsReader {
  const arm = (requests: number, errors: number, p95: number): ArmWindow => ({
    requests,
    errors,
    successes: requests - errors,
    latency: { p50: p95 / 2, p95, p99: p95 * 1.5, mean: p95 / 2, count: requests },
    samples: [],
  })
  return {
    window: () => ({ legacy: arm(100, 1, 20), candidate: arm(50, 5, 30) }),
    routes: () => [{ route: '/todos/:id', legacy: arm(100, 1, 20), candidate: arm(50, 5, 30) }],
  }
}

export interface AdminHarness {
  readonly url: string
  readonly app: FastifyInstance
  readonly store: Store
  readonly deps: AdminDeps
  readonly reloads: string[]
  setConfig(config: Config): void
  close(): Promise<void>
}

export async function startAdmin(
  options: { tokens?: boolean; control?: 'store' | 'none' | RolloutControl; server?: AdminServerOptions; reloadFails?: boolean } = {},
): Promise<AdminHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-admin-'))
  const store = await openStore(`sqlite:${join(dir, 'tandem.db')}`)
  let config = parseConfig(configYaml({ tokens: options.tokens }), 'tandem.yaml', ENV)
  const reloads: string[] = []
  const control = options.control === 'none' ? undefined : options.control === undefined || options.control === 'store' ? new StoreControl(store) : options.control
  const deps: AdminDeps = {
    config: () => config,
    store,
    routing: new RoutingTable(),
    metrics: fixedMetrics(),
    ...(control === undefined ? {} : { control }),
    prometheus: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'tandem_up 1\n' }),
    reload: async (actor) => {
      reloads.push(actor)
      if (options.reloadFails) {
        return { ok: false, errors: [{ code: 'TANDEM_ERR_CONFIG_TYPE', message: 'bad', file: 'tandem.yaml', line: 3, column: 1, path: 'systems' }] }
      }
      return { ok: true }
    },
  }
  const app = createAdminServer(deps, { dashboard: false, ...options.server })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    url,
    app,
    store,
    deps,
    reloads,
    setConfig: (c) => {
      config = c
    },
    close: async () => {
      await app.close()
      await store.close()
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
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  // Mutating calls declare JSON even without a body, as the CLI and the dashboard do.
  if ((options.body !== undefined || method !== 'GET') && headers['content-type'] === undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${base}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) })
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // Prometheus text and other non-JSON bodies stay strings.
  }
  return { status: res.status, body }
}
