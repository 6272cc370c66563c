import { describe, expect, it } from 'vitest'
import { compileTargetHeaders, stripResponseHeaders, upstreamRequestHeaders, type ForwardFacts } from './headers.js'

function toObject(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!.toLowerCase()] = flat[i + 1]!
  return out
}

describe('upstream request headers', () => {
  const rawHeaders = [
    'Host',
    'app.example',
    'Connection',
    'keep-alive, x-drop',
    'Keep-Alive',
    'timeout=5',
    'X-Drop',
    '1',
    'TE',
    'trailers',
    'Proxy-Authorization',
    'secret',
    'Upgrade',
    'h2c',
    'X-Forwarded-For',
    '10.0.0.1',
    'Accept',
    'application/json',
    'X-Env',
    'client',
  ]
  // A fresh object per call: the first header list built is cached on the facts of a request.
  const newFacts = (): ForwardFacts => ({
    rawHeaders,
    headers: { host: 'app.example', connection: 'keep-alive, x-drop', 'x-forwarded-for': '10.0.0.1' },
    remoteAddress: '127.0.0.1',
    encrypted: false,
  })

  it('drops hop-by-hop headers (also those named in Connection) and adds x-forwarded-*', () => {
    const h = toObject(
      upstreamRequestHeaders(newFacts(), compileTargetHeaders(new URL('http://127.0.0.1:9002'), {}, 'keep'), false),
    )
    expect(h).toEqual({
      host: 'app.example',
      accept: 'application/json',
      'x-env': 'client',
      'x-forwarded-for': '10.0.0.1, 127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'app.example',
    })
  })

  it('applies the target headers, the Host rewrite and the shadow tag', () => {
    const target = compileTargetHeaders(new URL('http://127.0.0.1:9002'), { 'x-env': 'shadow' }, 'target')
    const h = toObject(upstreamRequestHeaders(newFacts(), target, true))
    expect(h.host).toBe('127.0.0.1:9002')
    expect(h['x-env']).toBe('shadow')
    expect(h['x-tandem-shadow']).toBe('1')
  })

  it('gives a mirror call the same client headers as the primary, built once, plus the shadow tag', () => {
    const shared = newFacts()
    const target = compileTargetHeaders(new URL('http://127.0.0.1:9002'), {}, 'keep')
    const primary = upstreamRequestHeaders(shared, target, false)
    const mirror = upstreamRequestHeaders(
      shared,
      compileTargetHeaders(new URL('http://127.0.0.1:9003'), {}, 'target'),
      true,
    )
    expect(shared.forwarded).toBe(primary)
    expect(primary).toEqual(upstreamRequestHeaders(newFacts(), target, false)) // the primary list is left as built
    expect(toObject(mirror)).toEqual({ ...toObject(primary), host: '127.0.0.1:9003', 'x-tandem-shadow': '1' })
  })

  it('strips hop-by-hop headers from responses', () => {
    const h = stripResponseHeaders({
      connection: 'close, x-internal',
      'x-internal': '1',
      'transfer-encoding': 'chunked',
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2'],
    })
    expect(h).toEqual({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] })
  })
})
