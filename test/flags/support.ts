// Shared setup of the flag tests: a real instance (admin server, controller, comparison engine) on
// loopback with operator, flags and viewer tokens, from a tandem.yaml written to a temporary directory.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { request } from 'undici'
import { createInstance, type Instance } from '../../src/instance/create-instance.js'

export const OPERATOR = 'operator-token-0123456789'
export const FLAGS = 'flags-token-0123456789abc'
export const VIEWER = 'viewer-token-0123456789ab'

export async function flagInstance(
  systems: string,
  cleanup: Array<() => Promise<void>>,
): Promise<{ instance: Instance; configFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-flags-'))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  const configFile = join(dir, 'tandem.yaml')
  await writeFile(
    configFile,
    `version: 1
gateway: { listen: 127.0.0.1:0 }
admin:
  listen: 127.0.0.1:0
  tokens:
    - { name: ops, role: operator, token: ${OPERATOR} }
    - { name: app, role: flags, token: ${FLAGS} }
    - { name: dash, role: viewer, token: ${VIEWER} }
store: sqlite:${join(dir, 'tandem.db')}
systems:
${systems}`,
  )
  const instance = await createInstance({
    configFile,
    logger: pino({ level: 'silent' }),
    admin: { dashboard: false },
  })
  cleanup.push(() => instance.close())
  return { instance, configFile }
}

/** POST JSON (or raw text) to the admin listener; the status, headers and parsed body. */
export async function post(
  url: string,
  body: unknown,
  token: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
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

/** Poll `check` every 20 ms until it is true, at most `tries` times (no timing assertion: it just must happen). */
export async function until(check: () => boolean | Promise<boolean>, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error('condition never became true')
}
