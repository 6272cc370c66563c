// What gateway clients read when an upstream misbehaves (issue 12, items 2 and 12): an upstream that
// answers but not with valid HTTP/1.1 is TANDEM_ERR_UPSTREAM_PROTOCOL (it was "could not be reached"),
// and no 502/504 body shows an upstream's URL or address, only its role.
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { system, tandemConfig } from '../support/config.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { deadUrl, origin, type Origin } from '../support/loopback.js'

/** A TCP server that answers every request with `reply` (raw bytes) and closes. */
async function rawUpstream(
  reply: string,
): Promise<{ url: string; port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
    s.once('data', () => s.end(reply))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  return { url: `http://127.0.0.1:${port}`, port, server, sockets }
}

describe('upstream failures as gateway clients see them', () => {
  const replies = {
    informational: 'HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n',
    'duplicate-length': 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc',
    'unasked-upgrade': 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n',
    garbage: 'THIS IS NOT HTTP\r\n\r\n',
  }
  const upstreams: Record<string, Awaited<ReturnType<typeof rawUpstream>>> = {}
  let ok: Origin
  let down: string
  let tandem: TestInstance

  beforeAll(async () => {
    for (const [name, reply] of Object.entries(replies)) upstreams[name] = await rawUpstream(reply)
    ok = await origin((_req, res) => res.end('ok'))
    down = await deadUrl()
    const systems = Object.keys(replies).map((name) =>
      system(name, { legacy: `${upstreams[name]!.url}/base`, candidate: ok.url, routes: [{ path: `/${name}/**` }] }),
    )
    tandem = await buildInstance(
      tandemConfig({
        gateway: { fallback: `${down}/legacy-app`, upstreamTimeout: '400ms' },
        systems: [...systems, system('down', { legacy: down, candidate: ok.url, routes: [{ path: '/down/**' }] })],
      }),
    )
  })

  afterAll(async () => {
    await tandem?.close()
    await ok?.close()
    for (const u of Object.values(upstreams)) {
      for (const s of u.sockets) s.destroy()
      u.server.close()
    }
  })

  const call = async (path: string) => {
    const res = await request(`${tandem.instance.gatewayUrl}${path}`)
    return { status: res.statusCode, body: (await res.body.json()) as { code: string; message: string } }
  }

  for (const name of Object.keys(replies)) {
    it(
      `an upstream answering ${name} gets TANDEM_ERR_UPSTREAM_PROTOCOL ` + `(502), naming the target by its role`,
      async () => {
        const { status, body } = await call(`/${name}/x`)
        expect(status).toBe(502)
        expect(body.code, body.message).toBe('TANDEM_ERR_UPSTREAM_PROTOCOL')
        expect(body.message).toContain(`legacy of system "${name}"`)
        expect(body.message).not.toMatch(/127\.0\.0\.1|http:|:\d{2,5}\b/)
        expect(body.message).not.toContain(String(upstreams[name]!.port))
      },
    )
  }

  it(
    'an unreachable upstream is TANDEM_ERR_UPSTREAM_CONNECT ' + 'without its address; the fallback is named as such',
    async () => {
      const port = new URL(down).port
      for (const path of ['/down/x', '/unrouted']) {
        const { status, body } = await call(path)
        expect(status).toBe(502)
        expect(body.code).toBe('TANDEM_ERR_UPSTREAM_CONNECT')
        expect(body.message).toContain('ECONNREFUSED')
        expect(body.message).not.toContain(port)
        expect(body.message).not.toMatch(/127\.0\.0\.1|http:|legacy-app/)
      }
      expect((await call('/unrouted')).body.message).toContain('gateway.fallback')
    },
  )

  it('keeps serving after each of them', async () => {
    const res = await request(`${tandem.instance.gatewayUrl}/garbage/x`)
    await res.body.dump()
    const system = tandem.instance.routing.get('garbage')
    tandem.instance.routing.set('garbage', { ...system, stage: 'promoted', activeArm: 'candidate' })
    const served = await request(`${tandem.instance.gatewayUrl}/garbage/x`)
    expect(served.statusCode).toBe(200)
    expect(await served.body.text()).toBe('ok')
  })
})
