// Request targets are normalised before routing and forwarded normalised (issue 12, item 3): dot segments
// (also %2e-encoded), duplicate slashes and absolute-form targets can no longer route a request past its
// route to the fallback, or match a route while reaching another path upstream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { system, tandemConfig } from '../support/config.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { origin, rawRequest, type Origin } from '../support/loopback.js'

describe('request target normalisation at the gateway', () => {
  let api: Origin
  let fallback: Origin
  let tandem: TestInstance

  beforeAll(async () => {
    const echo =
      (who: string) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ who, url: req.url, host: req.headers.host }))
      }
    api = await origin(echo('api'))
    fallback = await origin(echo('fallback'))
    tandem = await buildInstance(
      tandemConfig({
        gateway: { fallback: fallback.url },
        systems: [system('items', { legacy: api.url, routes: [{ path: '/api/items/**' }] })],
      }),
    )
  })

  afterAll(async () => {
    await tandem?.close()
    await Promise.all([api?.close(), fallback?.close()])
  })

  const get = (target: string, host = 'shop.example') =>
    rawRequest(tandem.instance.gatewayUrl, `GET ${target} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`)

  it('routes /other/../api/items/1 to its route and forwards /api/items/1', async () => {
    const res = await get('/other/../api/items/1?x=/../y')
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toEqual({ who: 'api', url: '/api/items/1?x=/../y', host: 'shop.example' })
  })

  it('does not let /api/items/../../secret match /api/items/**: it is /secret, for the fallback', async () => {
    for (const target of [
      '/api/items/../../secret',
      '/api/items/%2e%2e/%2E%2E/secret',
      '/api/items/.%2e/%2E./secret',
    ]) {
      const res = await get(target)
      expect(res.status, target).toBe(200)
      expect(JSON.parse(res.body), target).toMatchObject({ who: 'fallback', url: '/secret' })
    }
  })

  it('merges duplicate slashes before matching and forwarding', async () => {
    const res = await get('//api//items///2/')
    expect(JSON.parse(res.body)).toMatchObject({ who: 'api', url: '/api/items/2/' })
  })

  it('answers a coded 400 for a path climbing above the root, and keeps serving', async () => {
    const res = await get('/api/../../etc/passwd')
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body)).toMatchObject({ code: 'TANDEM_ERR_PATH_OUTSIDE_ROOT' })
    expect(JSON.parse((await get('/api/items/3')).body)).toMatchObject({ who: 'api', url: '/api/items/3' })
  })

  it('normalises absolute-form targets the same way and takes the host from them', async () => {
    const res = await get('http://legacy.example:8080/other/../api/items/4?q=1')
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toEqual({ who: 'api', url: '/api/items/4?q=1', host: 'legacy.example:8080' })
    const escaping = await get('http://legacy.example/%2e%2e/x')
    expect(JSON.parse(escaping.body)).toMatchObject({ code: 'TANDEM_ERR_PATH_OUTSIDE_ROOT' })
  })

  it(
    'answers OPTIONS * itself with 200 and Allow (it used to ' +
      'be a 502), and refuses other non-path targets with a code',
    async () => {
      const options = await rawRequest(
        tandem.instance.gatewayUrl,
        'OPTIONS * HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
      )
      expect(options.status).toBe(200)
      expect(options.headers.allow).toContain('GET')
      expect(options.body).toBe('')
      const star = await get('*')
      expect(star.status).toBe(400)
      expect(JSON.parse(star.body)).toMatchObject({ code: 'TANDEM_ERR_BAD_TARGET' })
      const ftp = await get('ftp://h/x')
      expect(JSON.parse(ftp.body)).toMatchObject({ code: 'TANDEM_ERR_BAD_TARGET' })
    },
  )
})
