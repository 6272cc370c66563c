// WebSocket through the gateway (SPEC 3a): echo on the arm the user is assigned, never mirrored (skip
// `websocket`), refused upgrades counted as errors, close propagated both ways, connections opened
// before a blue-green switch or a reload finish on their arm, a frame flood is held back by backpressure.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { eventually } from '../support/eventually.js'
import type { TestInstance } from '../support/instance.js'
import { deadUrl, promValue } from '../support/loopback.js'
import { drainedOrStalled } from './fixtures/flood.js'
import { startTandem } from './fixtures/start-tandem.js'
import { ask, open, wsOrigin, type WsOrigin } from './fixtures/ws-origin.js'

describe('WebSocket through the gateway', () => {
  let legacy: WsOrigin
  let candidate: WsOrigin
  let refusing: Server
  let stalled: Server
  const stalledSockets: Socket[] = []
  let tandem: TestInstance
  let wsBase: string

  beforeAll(async () => {
    legacy = await wsOrigin('legacy')
    candidate = await wsOrigin('candidate')
    refusing = createServer((_req, res) => res.end())
    refusing.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\nno')
    })
    // Accepts the upgrade and then reads nothing: a flood must wait in the gateway's kernel buffers.
    stalled = createServer()
    stalled.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n')
      socket.pause()
      stalledSockets.push(socket)
    })
    for (const s of [refusing, stalled]) {
      s.listen(0, '127.0.0.1')
      await once(s, 'listening')
    }
    const port = (s: Server) => (s.address() as AddressInfo).port
    const down = await deadUrl()
    tandem = await startTandem(`version: 1
systems:
  - name: chat
    legacy: { url: ${legacy.url} }
    candidate: { url: ${candidate.url} }
    routes: [{ path: /chat/** }]
    rollout: { stickiness: header:x-user-id }
  - name: colours
    legacy: { url: ${legacy.url} }
    candidate: { url: ${candidate.url} }
    routes: [{ path: /colours/** }]
    rollout: { strategy: blue-green }
  - name: refused
    legacy: { url: http://127.0.0.1:${port(refusing)} }
    candidate: { url: ${down} }
    routes: [{ path: /refused/** }]
  - name: flood
    legacy: { url: http://127.0.0.1:${port(stalled)} }
    candidate: { url: ${down} }
    routes: [{ path: /flood/** }]
`)
    wsBase = tandem.instance.gatewayUrl.replace('http://', 'ws://')
  })

  afterAll(async () => {
    for (const s of stalledSockets) s.destroy()
    await tandem?.close()
    await Promise.all([legacy?.close(), candidate?.close()])
    for (const s of [refusing, stalled]) {
      s?.closeAllConnections()
      s?.close()
    }
  })

  it('echoes on the sticky arm of the user, never mirrored, counted as skip `websocket` and as requests', async () => {
    tandem.instance.routing.set('chat', { stage: 'canary', weight: 50, activeArm: 'legacy', paused: false })
    const arms = new Set<string>()
    for (let i = 0; i < 16; i++) {
      const user = `user-${i}`
      const http = await request(`${tandem.instance.gatewayUrl}/chat/x`, { headers: { 'x-user-id': user } })
      const httpArm = await http.body.text()
      const ws = await open(`${wsBase}/chat/room`, { 'x-user-id': user })
      const answer = await ask(ws, `hello ${i}`)
      expect(answer).toBe(`${httpArm}:hello ${i}:primary`)
      expect(await ask(ws, 'again')).toBe(`${httpArm}:again:primary`)
      arms.add(httpArm)
      ws.close()
      await once(ws, 'close')
    }
    expect(arms).toEqual(new Set(['legacy', 'candidate']))
    const admin = tandem.instance.adminUrl
    expect(await promValue(admin, 'tandem_shadow_total', { system: 'chat', result: 'websocket' })).toBe(16)
    const accepted = (arm: string) =>
      promValue(admin, 'tandem_requests_total', { system: 'chat', route: '/chat/**', arm, status: '1xx' })
    const upgrades = (await accepted('legacy')) + (await accepted('candidate'))
    expect(upgrades).toBe(16)
  })

  it('closing either side closes the other', async () => {
    const before = legacy.closed
    const a = await open(`${wsBase}/chat/a`, { 'x-user-id': 'closer' })
    a.close(1000, 'client done')
    await once(a, 'close')
    await eventually(async () => legacy.closed + candidate.closed, { until: (n) => n > before })
    const b = await open(`${wsBase}/chat/b`, { 'x-user-id': 'closer' })
    const [code, reason] = (await Promise.all([once(b, 'close'), b.send('bye')]))[0] as [number, Buffer]
    expect(code).toBe(1000)
    expect(String(reason)).toBe('server says bye')
  })

  it('a refused upgrade is relayed and counted as an error; an unreachable arm is a coded 502', async () => {
    const refused = new WebSocket(`${wsBase}/refused/x`)
    const [, res] = (await once(refused, 'unexpected-response')) as [unknown, IncomingMessage]
    expect(res.statusCode).toBe(403)
    res.resume()
    tandem.instance.routing.set('refused', { stage: 'canary', weight: 100, activeArm: 'legacy', paused: false })
    const down = new WebSocket(`${wsBase}/refused/y`)
    const [, res2] = (await once(down, 'unexpected-response')) as [unknown, IncomingMessage]
    expect(res2.statusCode).toBe(502)
    const chunks: Buffer[] = []
    for await (const c of res2) chunks.push(c as Buffer)
    expect(JSON.parse(Buffer.concat(chunks).toString()).code).toBe('TANDEM_ERR_UPSTREAM_CONNECT')
    const errors = async (arm: string) =>
      promValue(tandem.instance.adminUrl, 'tandem_requests_total', { system: 'refused', arm, status: 'error' })
    expect(await errors('legacy')).toBe(1)
    expect(await errors('candidate')).toBe(1)
  })

  it('connections opened before a blue-green switch and a reload finish on their arm', async () => {
    tandem.instance.routing.set('colours', { stage: 'canary', weight: 0, activeArm: 'legacy', paused: false })
    const before = await Promise.all(Array.from({ length: 8 }, (_, i) => open(`${wsBase}/colours/${i}`)))
    let abrupt = 0
    for (const ws of before) ws.on('close', () => abrupt++)
    for (const ws of before) expect(await ask(ws, 'pre')).toBe('legacy:pre:primary')
    tandem.instance.routing.set('colours', { stage: 'canary', weight: 0, activeArm: 'candidate', paused: false })
    expect((await tandem.instance.reload('test')).ok).toBe(true)
    const after = await open(`${wsBase}/colours/new`)
    expect(await ask(after, 'post')).toBe('candidate:post:primary')
    for (const ws of before) expect(await ask(ws, 'still')).toBe('legacy:still:primary')
    expect(abrupt).toBe(0)
    for (const ws of [...before, after]) ws.close()
    await Promise.all([...before, after].map((ws) => once(ws, 'close')))
  })

  it('a frame flood to an upstream that does not read is held back (bounded); the gateway keeps serving', async () => {
    const { port } = new URL(tandem.instance.gatewayUrl)
    const socket = connect(Number(port), '127.0.0.1')
    socket.write(
      'GET /flood/x HTTP/1.1\r\nhost: t\r\nconnection: upgrade\r\nupgrade: websocket\r\n' +
        'sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    )
    const [head] = (await once(socket, 'data')) as [Buffer]
    expect(head.toString()).toMatch(/^HTTP\/1.1 101/)
    // A masked binary frame of 64 KiB, written over and over, waiting for drain: the flood stops when
    // the gateway stops reading (no drain while nothing moves), at most 512 MiB.
    const payload = 64 * 1024
    const header = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4]) // FIN binary, masked, 64-bit length
    const frame = Buffer.concat([header, Buffer.alloc(payload, 9)])
    let written = 0
    const limit = 512 * 1024 * 1024
    while (written < limit) {
      written += frame.length
      if (!socket.write(frame)) {
        const drained = await drainedOrStalled(socket)
        if (!drained) break
      }
    }
    // Kernel buffers on both sides of the gateway hold what went through; nothing near the whole flood.
    expect(written).toBeLessThan(limit)
    const res = await request(`${tandem.instance.gatewayUrl}/chat/ok`, { headers: { 'x-user-id': 'u' } })
    expect(res.statusCode).toBe(200)
    await res.body.dump()
    // Once the upstream reads, everything the client wrote arrives.
    let received = 0
    const upstream = stalledSockets.at(-1)!
    upstream.on('data', (c: Buffer) => (received += c.length))
    upstream.resume()
    await eventually(async () => received, { until: (n) => n >= written, tries: 400 })
    expect(received).toBe(written)
    socket.destroy()
  })

  it('a gateway drain lets an open connection finish on its arm, then stops', async () => {
    const own = await startTandem(`version: 1
systems:
  - name: drain
    legacy: { url: ${legacy.url} }
    candidate: { url: ${candidate.url} }
    routes: [{ path: /** }]
`)
    const ws = await open(`${own.instance.gatewayUrl.replace('http://', 'ws://')}/d`)
    let closedEarly = false
    ws.on('close', () => (closedEarly = true))
    const stopping = own.close()
    // The drain is under way: the listener is closed, the open connection still works.
    expect(await ask(ws, 'during drain')).toBe('legacy:during drain:primary')
    expect(closedEarly).toBe(false)
    ws.close(1000)
    await once(ws, 'close')
    await stopping
  })
})
