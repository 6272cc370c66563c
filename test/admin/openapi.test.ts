// The OpenAPI document at /api/v1/openapi.json lists exactly the endpoints fastify registered and documents
// the action endpoint (names, body, error responses); the dashboard is served beside it, unlisted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registeredRoutes } from '../../src/admin/server.js'
import { call, startAdmin, TOKENS, type AdminHarness } from './harness.js'

/** An operation of the document, as far as these tests read it. */
interface Operation {
  parameters: Array<{ name: string; schema: { enum: string[] } }>
  requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> }
  responses: Record<string, unknown>
}

/** The OpenAPI document, as far as these tests read it. */
interface OpenApiDoc {
  openapi: string
  components: { securitySchemes: Record<string, unknown> }
  paths: Record<string, Record<string, Operation>>
}

describe('OpenAPI document', () => {
  let h: AdminHarness
  let doc: OpenApiDoc
  beforeAll(async () => {
    h = await startAdmin({ server: { dashboard: true } })
    doc = (await call(h.url, 'GET', '/api/v1/openapi.json')).body as OpenApiDoc
  })
  afterAll(async () => h?.close())

  const toOpenApi = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

  it('is an OpenAPI 3 document with bearer security', () => {
    expect(doc.openapi).toMatch(/^3\./)
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' })
  })

  it('has every registered endpoint, with its method, and nothing else', () => {
    // HEAD routes are fastify's automatic twins of GET; the dashboard's static files are not API.
    const routes = registeredRoutes(h.app).filter((r) => r.method !== 'HEAD' && !r.hidden)
    expect(routes.length).toBeGreaterThan(14)
    const registered = new Set(routes.map((r) => `${r.method} ${toOpenApi(r.url)}`))
    const documented = new Set<string>()
    for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`)
    }
    expect([...documented].sort()).toEqual([...registered].sort())
    for (const must of [
      'GET /api/v1/systems',
      'GET /api/v1/systems/{name}',
      'POST /api/v1/systems/{name}/actions/{action}',
      'POST /api/v1/config/reload',
      'GET /api/v1/systems/{name}/diffs',
      'GET /api/v1/systems/{name}/metrics',
      'GET /api/v1/report',
      'GET /api/v1/audit',
      'GET /api/v1/decisions',
      'GET /api/v1/verdicts',
      'GET /healthz',
      'GET /metrics',
    ]) {
      expect(registered, must).toContain(must)
    }
  })

  it('documents the action names, body and error responses', () => {
    const op = doc.paths['/api/v1/systems/{name}/actions/{action}']!.post!
    const action = op.parameters.find((p) => p.name === 'action')
    expect(action!.schema.enum).toEqual([
      'start',
      'advance',
      'promote',
      'pause',
      'resume',
      'rollback',
      'retry',
      'finalize',
    ])
    expect(Object.keys(op.requestBody.content['application/json']!.schema.properties).sort()).toEqual([
      'force',
      'reason',
    ])
    for (const status of ['200', '401', '403', '409', '503']) expect(Object.keys(op.responses)).toContain(status)
  })

  it('serves the dashboard at / without listing its files as API endpoints', async () => {
    const res = await fetch(`${h.url}/`)
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('id="app"')
    // The built script is served too, with no reference to anything off this listener.
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1]
    expect(script).toBeDefined()
    const js = await fetch(`${h.url}/${script}`)
    expect(js.status).toBe(200)
    expect(html).not.toMatch(/https?:\/\//)
    // Documented paths: the API, OFREP (SPEC 12), /healthz and /metrics; no dashboard file.
    expect(
      Object.keys(doc.paths).some(
        (p) => !p.startsWith('/api/v1/') && !p.startsWith('/ofrep/v1/') && p !== '/healthz' && p !== '/metrics',
      ),
    ).toBe(false)
  })

  it('answers an unknown API path with a coded 404', async () => {
    const res = await call(h.url, 'GET', '/api/v1/nope', { token: TOKENS.viewer })
    expect(res.status).toBe(404)
    expect(res.body.code).toBe('TANDEM_ERR_ADMIN_NOT_FOUND')
  })
})
