// Regression tests for issue 12, defect 2: with no token configured (the loopback default) a foreign
// page could start a rollout through the user's browser (a cross-origin POST, a form, a `no-cors`
// fetch) and read the API by DNS rebinding. Requests are sent with undici, which sends Host and
// Origin exactly as a browser on the foreign page would.
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listAudit } from '../../src/store/audit.js'
import { getState } from '../../src/store/system-state.js'
import { call, startAdmin, TOKENS, type AdminHarness } from './harness.js'

async function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: { code?: string; message?: string; text?: string } }> {
  const res = await request(url, { method: method as 'GET', headers, body: body ?? null })
  const text = await res.body.text()
  try {
    return { status: res.statusCode, body: JSON.parse(text) as { code?: string; message?: string } }
  } catch {
    // Not JSON: kept whole, so a code or message assertion fails on it.
    return { status: res.statusCode, body: { text } }
  }
}

describe('a tokenless admin listener', () => {
  let h: AdminHarness
  let port: string
  beforeAll(async () => {
    h = await startAdmin({ tokens: false })
    port = new URL(h.url).port
  })
  afterAll(async () => h?.close())
  const start = () => `${h.url}/api/v1/systems/billing/actions/start`

  it('refuses a cross-origin POST and starts nothing', async () => {
    const res = await send(
      start(),
      'POST',
      { origin: 'https://evil.example', 'content-type': 'application/json' },
      '{}',
    )
    expect(res.status).toBe(403)
    expect(res.body.code).toBe('TANDEM_ERR_ADMIN_FOREIGN_ORIGIN')
    expect(res.body.message).toContain('https://evil.example')
    expect((await getState(h.store, 'billing')).stage).toBe('pending')
    const [row] = await listAudit(h.store, { target: 'billing', limit: 1 })
    expect(row).toMatchObject({ action: 'start', result: 'refused', params: { origin: 'https://evil.example' } })
  })

  it('refuses what a form or a no-cors fetch can send: text/plain, form types, no content type', async () => {
    for (const type of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      undefined,
    ]) {
      const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type }
      const res = await send(start(), 'POST', headers, type === undefined ? undefined : '{"force":true}')
      expect(res.status, String(type)).toBe(415)
      expect(res.body.code).toBe('TANDEM_ERR_ADMIN_CONTENT_TYPE')
    }
    // The same refusals with the foreign Origin a browser adds.
    const res = await send(start(), 'POST', { origin: 'https://evil.example', 'content-type': 'text/plain' }, '')
    expect(res.status).toBe(415)
    expect((await getState(h.store, 'billing')).stage).toBe('pending')
  })

  it('refuses a foreign Host (DNS rebinding) on every path, reads included', async () => {
    for (const path of ['/api/v1/systems', '/api/v1/whoami', '/healthz', '/metrics', '/no/such/path']) {
      const res = await send(`${h.url}${path}`, 'GET', { host: `evil.example:${port}` })
      expect(res.status, path).toBe(421)
      expect(res.body.code).toBe('TANDEM_ERR_ADMIN_FOREIGN_HOST')
      expect(res.body.message).toContain('evil.example')
    }
    const act = await send(
      start(),
      'POST',
      { host: `evil.example:${port}`, origin: `http://evil.example:${port}`, 'content-type': 'application/json' },
      '{}',
    )
    expect(act.status).toBe(421)
    expect((await getState(h.store, 'billing')).stage).toBe('pending')
  })

  it('answers its own names and same-origin pages (the dashboard)', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost', `127.0.0.2:${port}`]) {
      const res = await send(`${h.url}/api/v1/whoami`, 'GET', { host })
      expect(res.status, host).toBe(200)
    }
    const read = await send(`${h.url}/api/v1/systems`, 'GET', {
      host: `localhost:${port}`,
      origin: `http://localhost:${port}`,
    })
    expect(read.status).toBe(200)
    // billing's wave is closed: the real controller starts it only with force (audited).
    const act = await send(
      start(),
      'POST',
      { origin: h.url, 'content-type': 'application/json; charset=utf-8' },
      '{"reason":"same origin","force":true}',
    )
    expect(act.status).toBe(200)
    expect((await getState(h.store, 'billing')).stage).toBe('shadow')
  })

  it('refuses an opaque origin (sandboxed frames, file: pages)', async () => {
    const res = await send(
      `${h.url}/api/v1/systems/billing/actions/pause`,
      'POST',
      { origin: 'null', 'content-type': 'application/json' },
      '{}',
    )
    expect(res.status).toBe(403)
    expect(res.body.code).toBe('TANDEM_ERR_ADMIN_FOREIGN_ORIGIN')
  })
})

describe('an admin listener with tokens', () => {
  let h: AdminHarness
  beforeAll(async () => {
    h = await startAdmin()
  })
  afterAll(async () => h?.close())

  it('still requires JSON on mutating calls, before looking at the token', async () => {
    const res = await call(h.url, 'POST', '/api/v1/systems/todo-api/actions/start', {
      token: TOKENS.operator,
      headers: { 'content-type': 'text/plain' },
    })
    expect(res.status).toBe(415)
    expect(res.body.code).toBe('TANDEM_ERR_ADMIN_CONTENT_TYPE')
    expect((await getState(h.store, 'todo-api')).stage).toBe('pending')
  })

  it('leaves Host and Origin to the bearer token (a proxy may rename the listener)', async () => {
    const proxied = {
      host: 'tandem.internal.example',
      origin: 'https://tandem.corp.example',
      authorization: `Bearer ${TOKENS.operator}`,
      'content-type': 'application/json',
    }
    // Started, then paused (a pending system cannot be paused), both through the renamed listener.
    expect((await send(`${h.url}/api/v1/systems/todo-api/actions/start`, 'POST', proxied, '{}')).status).toBe(200)
    const res = await send(`${h.url}/api/v1/systems/todo-api/actions/pause`, 'POST', proxied, '{}')
    expect(res.status).toBe(200)
    expect((await getState(h.store, 'todo-api')).paused).toBe(true)
    const anonymous = await send(`${h.url}/api/v1/systems`, 'GET', {
      host: 'evil.example',
      origin: 'https://evil.example',
    })
    expect(anonymous.status).toBe(401)
  })
})
