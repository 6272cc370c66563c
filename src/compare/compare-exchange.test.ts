import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { compareExchange, compileCompareSettings, type CompareConfig } from './compare-exchange.js'
import type { ArmResult, CapturedResponse, Exchange } from './sink.js'

const config: CompareConfig = {
  ignore: ['/meta/requestId', '**/updatedAt'],
  unordered: [],
  keyedArrays: {},
  numericTolerance: 0,
  headers: ['content-type'],
  noise: { relative: 0.2, absolute: 0.0003 },
  samplesPerField: 5,
  redact: ['headers.authorization', 'headers.cookie', 'headers.set-cookie', '/password'],
}
const settings = compileCompareSettings(config)

function res(
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/json' },
  status = 200,
  truncated = false,
): CapturedResponse {
  return {
    ok: true,
    status,
    headers,
    body: typeof body === 'string' ? Buffer.from(body) : body,
    truncated,
    durationMs: 1,
  }
}

function exchange(legacy: ArmResult, candidate: ArmResult, secondary?: ArmResult): Exchange {
  return {
    system: 's',
    route: '/r',
    at: Date.now(),
    primary: 'legacy',
    request: { method: 'GET', url: '/r', headers: {}, body: null },
    legacy,
    candidate,
    secondary,
  }
}

describe('compareExchange', () => {
  it('404 vs 200 is a difference', () => {
    const out = compareExchange(exchange(res('{"a":1}', undefined, 404), res('{"a":1}', undefined, 200)), settings)
    expect(out.result).toBe('mismatch')
    expect(out.remaining).toEqual([{ path: 'status', field: 'status', kind: 'changed', legacy: 404, candidate: 200 }])
  })

  it('gzip, deflate and br vs identity encoding of the same JSON is not a difference', () => {
    const body = JSON.stringify({ items: [{ id: 1, name: 'é' }], total: 1 })
    for (const [enc, bytes] of [
      ['gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
      ['br', brotliCompressSync(body)],
    ] as const) {
      const out = compareExchange(
        exchange(res(bytes, { 'content-type': 'application/json', 'content-encoding': enc }), res(body)),
        settings,
      )
      expect(out.result, enc).toBe('match')
    }
  })

  it('key order is not a difference', () => {
    expect(
      compareExchange(exchange(res('{"a":1,"b":{"x":1,"y":2}}'), res('{"b":{"y":2,"x":1},"a":1}')), settings).result,
    ).toBe('match')
  })

  it('decodes the charset and compares application/*+json structurally', () => {
    const latin1 = Buffer.from('{"name":"caf\xe9"}', 'latin1')
    const out = compareExchange(
      exchange(
        res(latin1, { 'content-type': 'application/problem+json; charset=ISO-8859-1' }),
        res('{ "name": "café" }', { 'content-type': 'application/problem+json; charset=utf-8' }),
      ),
      compileCompareSettings({ ...config, headers: [] }),
    )
    expect(out.result).toBe('match')
  })

  it('compares text as text and other bodies by SHA-256', () => {
    const text = compareExchange(
      exchange(res('hello', { 'content-type': 'text/plain' }), res('hellO', { 'content-type': 'text/plain' })),
      settings,
    )
    expect(text.remaining).toMatchObject([{ path: '', kind: 'changed', legacy: 'hello', candidate: 'hellO' }])
    const bin = { 'content-type': 'application/octet-stream' }
    expect(
      compareExchange(exchange(res(Buffer.from([1, 2, 3]), bin), res(Buffer.from([1, 2, 3]), bin)), settings).result,
    ).toBe('match')
    const diff = compareExchange(exchange(res(Buffer.from([1, 2, 3]), bin), res(Buffer.from([1, 2, 4]), bin)), settings)
    expect(diff.remaining[0]?.legacy).toMatchObject({ size: 3, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })
  })

  it('compares configured headers case-insensitively', () => {
    const out = compareExchange(
      exchange(res('{}', { 'Content-Type': 'application/json' }), res('{}', { 'content-type': 'text/html' })),
      settings,
    )
    expect(out.remaining.map((d) => d.path)).toContain('headers/content-type')
  })

  it('a truncated capture is skipped, not a mismatch', () => {
    const out = compareExchange(exchange(res('{"a":1', undefined, 200, true), res('{"a":2}')), settings)
    expect(out).toMatchObject({ result: 'skipped', reason: 'truncated' })
  })

  it('candidate transport failure and a candidate-only 5xx are candidate errors', () => {
    const failed: ArmResult = { ok: false, reason: 'error', message: 'ECONNREFUSED', durationMs: 1 }
    expect(compareExchange(exchange(res('{}'), failed), settings).result).toBe('candidate-error')
    expect(compareExchange(exchange(res('{}'), res('{}', undefined, 503)), settings).result).toBe('candidate-error')
    expect(compareExchange(exchange(res('{}', undefined, 500), res('{}', undefined, 503)), settings).result).toBe(
      'mismatch',
    )
  })

  it('paths where the two legacy responses differ are noise for that request', () => {
    const legacy = res('{"id":"a1","ts":1,"name":"x"}')
    const secondary = res('{"id":"b2","ts":2,"name":"x"}')
    const same = compareExchange(exchange(legacy, res('{"id":"c3","ts":3,"name":"x"}'), secondary), settings)
    expect(same.result).toBe('noise-only')
    expect(same.noise.map((d) => d.field).sort()).toEqual(['/id', '/ts'])
    const real = compareExchange(exchange(legacy, res('{"id":"c3","ts":3,"name":"y"}'), secondary), settings)
    expect(real.result).toBe('mismatch')
    expect(real.remaining.map((d) => d.path)).toEqual(['/name'])
  })

  it('builds a redacted sample', () => {
    const ex: Exchange = {
      ...exchange(
        res('{"password":"hunter2","a":1}', { 'content-type': 'application/json', 'set-cookie': 'sid=s3cret' }),
        res('{"password":"hunter3","a":2}'),
      ),
      request: {
        method: 'POST',
        url: '/login',
        headers: { authorization: 'Bearer t0ken', cookie: 'sid=c00kie', 'content-type': 'application/json' },
        body: Buffer.from('{"user":"u","password":"pw123"}'),
      },
    }
    const out = compareExchange(ex, settings)
    expect(out.sample).toBeDefined()
    for (const secret of ['hunter2', 'hunter3', 's3cret', 't0ken', 'c00kie', 'pw123'])
      expect(out.sample).not.toContain(secret)
    expect(JSON.parse(out.sample!).request.body).toEqual({ user: 'u', password: '[redacted]' })
  })
  it('masks secret query parameters, compare.redact query.NAME entries and x-api-key in the stored request', () => {
    const withQuery = compileCompareSettings({ ...config, redact: [...config.redact, 'query.session'] })
    const ex: Exchange = {
      ...exchange(res('{"a":1}'), res('{"a":2}')),
      request: {
        method: 'GET',
        url: '/r?page=2&access_token=tk-9f8e&api_key=ak-7d6c&session=se-5b4a&X-Amz-Signature=sg-3a2b',
        headers: { 'x-api-key': 'xk-1a0z' },
        body: null,
      },
    }
    const out = compareExchange(ex, withQuery)
    for (const secret of ['tk-9f8e', 'ak-7d6c', 'se-5b4a', 'sg-3a2b', 'xk-1a0z'])
      expect(out.sample).not.toContain(secret)
    const request = JSON.parse(out.sample!).request
    expect(request.url).toBe('/r?page=2&access_token=***&api_key=***&session=***&X-Amz-Signature=***')
    expect(request.headers['x-api-key']).toBe('[redacted]')
  })
})
