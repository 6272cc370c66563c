// Limits on gateway client connections (issue 12, item 4): a connection that never sends a complete
// request head is answered 408 and closed (headersTimeout was 0: it stayed open forever), idle keep-alive
// connections close, the listener bounds its connections, and slow bodies are still not cut.
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { system, tandemConfig } from '../support/config.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { origin, type Origin } from '../support/loopback.js'

function open(url: string): Socket {
  const { port, hostname } = new URL(url)
  const socket = connect(Number(port), hostname)
  socket.on('error', () => {})
  return socket
}

/** Everything the server sends until it closes the connection. */
async function untilClosed(socket: Socket): Promise<string> {
  let text = ''
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')))
  await once(socket, 'close')
  return text
}

describe('gateway client connection limits', () => {
  let upstream: Origin
  let tandem: TestInstance

  beforeAll(async () => {
    upstream = await origin((req, res, body) => res.end(`${req.method} ${req.url} ${body.length}`))
    tandem = await buildInstance(
      tandemConfig({
        gateway: { headersTimeout: '300ms', idleTimeout: '200ms', maxConnections: 3 },
        systems: [system('app', { legacy: upstream.url })],
      }),
    )
  })

  afterAll(async () => {
    await tandem?.close()
    await upstream?.close()
  })

  it('answers a silent connection 408 TANDEM_ERR_REQUEST_TIMEOUT and closes it', async () => {
    const answer = await untilClosed(open(tandem.instance.gatewayUrl))
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
    expect(answer).toContain('TANDEM_ERR_REQUEST_TIMEOUT')
  })

  it('does the same for a request head trickling in a byte at a time', async () => {
    const socket = open(tandem.instance.gatewayUrl)
    const head = 'GET /slow HTTP/1.1\r\nhost: x\r\nx-padding: ' + 'a'.repeat(200)
    let i = 0
    const timer = setInterval(() => {
      if (i < head.length && socket.writable) socket.write(head[i++]!)
    }, 20)
    const answer = await untilClosed(socket)
    clearInterval(timer)
    expect(i).toBeLessThan(head.length)
    expect(answer).toContain('TANDEM_ERR_REQUEST_TIMEOUT')
  })

  it('closes an idle keep-alive connection after its request was answered', async () => {
    const socket = open(tandem.instance.gatewayUrl)
    socket.write('GET /once HTTP/1.1\r\nhost: x\r\n\r\n')
    const answer = await untilClosed(socket)
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
    expect(answer).toContain('GET /once 0')
    expect(answer).not.toContain('408')
  })

  it('does not cut a request body that streams for longer than headersTimeout', async () => {
    const socket = open(tandem.instance.gatewayUrl)
    socket.write('POST /upload HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 10\r\n\r\n')
    for (let k = 0; k < 10; k++) {
      await new Promise((r) => setTimeout(r, 80))
      socket.write('x')
    }
    const answer = await untilClosed(socket)
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
    expect(answer).toContain('POST /upload 10')
  })

  it('accepts at most maxConnections at once, then serves again once one is gone', async () => {
    // Held open by sending half a head; each is a connection the listener counts.
    const held = [0, 1, 2].map(() => open(tandem.instance.gatewayUrl))
    for (const s of held) {
      await once(s, 'connect')
      s.write('GET /held HTTP/1.1\r\n')
    }
    const refused = open(tandem.instance.gatewayUrl)
    const refusedAnswer = await untilClosed(refused)
    expect(refusedAnswer).toBe('')
    for (const s of held) s.destroy()
    await Promise.all(held.map((s) => (s.closed ? null : once(s, 'close'))))
    // The server notices the closes asynchronously: retry until it has room again.
    let status = 0
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = await request(`${tandem.instance.gatewayUrl}/after`, { reset: true }).then(
        async (r) => (await r.body.dump(), r.statusCode),
        async () => (await new Promise((r) => setTimeout(r, 20)), 0),
      )
    }
    expect(status).toBe(200)
  })
})
