// Shared setup of the flag tests: a real instance (admin server, controller, comparison engine) on
// loopback with operator, flags and viewer tokens, from the test kit's config builder and buildInstance.
import { request } from 'undici'
import type { Instance } from '../../src/instance/create-instance.js'
import { tandemConfig, type SystemInput } from '../support/config.js'
import { buildInstance } from '../support/instance.js'

export const OPERATOR = 'operator-token-0123456789'
export const FLAGS = 'flags-token-0123456789abc'
export const VIEWER = 'viewer-token-0123456789ab'

/** A code system (a flag: no targets, no routes) with the given rollout and analysis. */
export function codeSystem(name: string, overrides: Omit<SystemInput, 'name' | 'kind'> = {}): SystemInput {
  return { name, kind: 'code', ...overrides }
}

/** The kit's instance with the controller and the comparison engine, and the three tokens above. */
export async function flagInstance(
  systems: SystemInput[],
  cleanup: Array<() => Promise<void>>,
): Promise<{ instance: Instance; configFile: string }> {
  const tokens = [
    { name: 'ops', role: 'operator', token: OPERATOR },
    { name: 'app', role: 'flags', token: FLAGS },
    { name: 'dash', role: 'viewer', token: VIEWER },
  ] as const
  const built = await buildInstance(tandemConfig({ tokens: [...tokens], systems }), {
    controller: {},
    comparisons: {},
  })
  cleanup.push(() => built.close())
  return { instance: built.instance, configFile: built.configFile }
}

/** POST JSON (or raw text) to the admin listener; the status, headers and parsed body. */
export async function post(
  url: string,
  body: unknown,
  token: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }
}

export async function act(adminUrl: string, system: string, action: string): Promise<void> {
  const res = await post(`${adminUrl}/api/v1/systems/${system}/actions/${action}`, { force: true }, OPERATOR)
  if (res.status !== 200) throw new Error(`${action} ${system}: ${res.status} ${JSON.stringify(res.body)}`)
}
