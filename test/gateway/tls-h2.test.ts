// TLS and HTTP/2 through the gateway (SPEC 3a): HTTP/2 and HTTP/1.1 clients on one TLS port (ALPN),
// https:// targets with a private CA, h1/h2c/h2 targets, certificates re-read on reload (a bad file keeps
// the old one), h2c prior knowledge next to HTTP/1.1 on cleartext, malformed frames, 50 MiB each way.
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import { connect as h2connect, createSecureServer, createServer as createH2Server } from 'node:http2'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { connect as netConnect, type AddressInfo, type Server } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CountingSink } from '../../src/gateway/counting-sink.js'
import { makeCert, type TestCert } from './fixtures/certs.js'
import { drainedOrStalled } from './fixtures/flood.js'
import { h2Get } from './fixtures/h2-client.js'
import { startTandem } from './fixtures/start-tandem.js'
import { eventually } from '../support/eventually.js'
import type { TestInstance } from '../support/instance.js'
import { origin, type Origin } from '../support/loopback.js'
import { temporaryDir } from '../support/temp-dir.js'

const MiB = 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, 5)

/** What every origin answers: how the request reached it. */
function describeRequest(name: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    let length = 0
    req.on('data', (c: Buffer) => (length += c.length))
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const host = req.headers.host ?? (req as { authority?: string }).authority ?? null
      res.end(JSON.stringify({ name, version: req.httpVersion, host, proto: req.headers['x-forwarded-proto'], length }))
    })
  }
}

async function listening<T extends Server>(server: T): Promise<{ server: T; url: (scheme: string) => string }> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: (scheme) => `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/** The SHA-256 fingerprint of the certificate the gateway presents to a new connection. */
async function presentedFingerprint(url: string, ca: Buffer): Promise<string> {
  const { port } = new URL(url)
  const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), ca, ALPNProtocols: ['http/1.1'] })
  await once(socket, 'secureConnect')
  const fingerprint = socket.getPeerCertificate().fingerprint256
  socket.destroy()
  return fingerprint
}

describe('TLS listener and HTTP/2', () => {
  let dir: string
  let cert: TestCert
  let plain: Origin
  const servers: Server[] = []
  let tandem: TestInstance
  let cleartext: TestInstance
  let big: Origin
  const downloads: { written: number }[] = []
  let uploadReceived = 0
  let pauseUploads = false
  const pausedUploads: IncomingMessage[] = []

  beforeAll(async () => {
    dir = temporaryDir('tandem-tls-')
    cert = makeCert(dir, 'server')
    plain = await origin(describeRequest('plain'), false)
    const pems = { cert: cert.certPem, key: cert.keyPem }
    const secure = await listening(createHttpsServer(pems, describeRequest('secure')))
    const h2c = await listening(createH2Server(describeRequest('h2c') as never))
    const h2 = await listening(createSecureServer(pems, describeRequest('h2') as never))
    servers.push(secure.server, h2c.server, h2.server)
    big = await origin((req, res) => {
      if (req.method === 'POST') {
        if (pauseUploads) return void pausedUploads.push(req)
        req.on('data', (c: Buffer) => (uploadReceived += c.length))
        req.on('end', () => res.end(JSON.stringify({ received: uploadReceived })))
        return
      }
      const total = Number(new URL(req.url!, 'http://x').searchParams.get('size'))
      const progress = { written: 0 }
      downloads.push(progress)
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) })
      const pump = () => {
        while (progress.written < total && !res.destroyed) {
          const n = Math.min(CHUNK.length, total - progress.written)
          progress.written += n
          if (!res.write(CHUNK.subarray(0, n))) return void res.once('drain', pump)
        }
        if (progress.written >= total) res.end()
      }
      pump()
    }, false)
    const target = (url: string, extra = '') => `{ url: ${url}${extra} }`
    const system = (name: string, url: string, extra = '') => `  - name: ${name}
    legacy: ${target(url, extra)}
    candidate: ${target(url, extra)}
    routes: [{ path: /${name}/** }]
`
    tandem = await startTandem(
      `version: 1
gateway: { tls: { cert: ${cert.cert}, key: ${cert.key} } }
systems:
${system('plain', plain.url)}\
${system('secure', secure.url('https'), `, tls: { ca: ${cert.cert} }`)}\
${system('untrusted', secure.url('https'))}\
${system('insecure', secure.url('https'), ', tls: { insecure: true }')}\
${system('h2c', h2c.url('http'), ', protocol: h2c')}\
${system('h2', h2.url('https'), `, protocol: h2, tls: { ca: ${cert.cert} }`)}`,
      dir,
    )
    // idleTimeout bounds how long a session that was sent GOAWAY may stay open if its client does not close.
    cleartext = await startTandem(`version: 1
gateway: { idleTimeout: 1s }
systems:
${system('plain', plain.url)}${system('big', big.url)}`)
  })

  afterAll(async () => {
    for (const r of pausedUploads) r.destroy()
    await tandem?.close()
    await cleartext?.close()
    await Promise.all([plain?.close(), big?.close()])
    for (const s of servers) s.close()
  })

  it('serves HTTP/2 and HTTP/1.1 clients on one TLS port (ALPN), to http1, https, h2c and h2 targets', async () => {
    const session = h2connect(tandem.instance.gatewayUrl.replace('http://', 'https://'), { ca: cert.certPem })
    try {
      const cases = [
        ['plain', 'plain', '1.1'],
        ['secure', 'secure', '1.1'],
        ['insecure', 'secure', '1.1'],
        ['h2c', 'h2c', '2.0'],
        ['h2', 'h2', '2.0'],
      ] as const
      for (const [system, name, version] of cases) {
        const { status, body } = await h2Get(session, `/${system}/x`)
        expect({ system, status, body: status === 200 ? '' : body }).toEqual({ system, status: 200, body: '' })
        const host = expect.stringContaining('127.0.0.1')
        expect(JSON.parse(body)).toMatchObject({ name, version, proto: 'https', host })
      }
      const untrusted = await h2Get(session, '/untrusted/x')
      expect(untrusted.status).toBe(502)
      expect(JSON.parse(untrusted.body).code).toBe('TANDEM_ERR_UPSTREAM_CONNECT')
    } finally {
      session.close()
    }
    const h1 = await new Promise<IncomingMessage>((resolve, reject) => {
      const url = `${tandem.instance.gatewayUrl.replace('http://', 'https://')}/plain/y`
      const r = httpsRequest(url, { ca: cert.certPem, agent: false }, resolve)
      r.on('error', reject)
      r.end()
    })
    expect(h1.httpVersion).toBe('1.1')
    let text = ''
    for await (const c of h1) text += (c as Buffer).toString()
    expect(JSON.parse(text)).toMatchObject({ name: 'plain', proto: 'https' })
  })

  it('mirrors HTTP/2 requests like HTTP/1.1 ones, without pseudo-headers', async () => {
    const sink = tandem.instance.comparisons as CountingSink
    const before = sink.submitted
    tandem.instance.routing.set('plain', { stage: 'shadow', weight: 0, activeArm: 'legacy', paused: false })
    const session = h2connect(tandem.instance.gatewayUrl.replace('http://', 'https://'), { ca: cert.certPem })
    expect((await h2Get(session, '/plain/mirrored', { 'x-user-id': 'u1' })).status).toBe(200)
    session.close()
    await eventually(async () => sink.submitted, { until: (n) => n > before })
    const exchange = sink.recent.at(-1)!
    expect(exchange.request.url).toBe('/plain/mirrored')
    expect(Object.keys(exchange.request.headers).filter((k) => k.startsWith(':'))).toEqual([])
    expect(exchange.legacy.ok && exchange.candidate.ok).toBe(true)
  })

  it('re-reads the certificate on reload; a bad file is a coded error and the old certificate stays', async () => {
    const first = await presentedFingerprint(tandem.instance.gatewayUrl, cert.certPem)
    const goodPem = cert.certPem
    writeFileSync(cert.cert, 'not a certificate\n')
    const rejected = await tandem.instance.reload('test')
    expect(rejected.ok).toBe(false)
    if (!rejected.ok) expect(rejected.errors[0]!.code).toBe('TANDEM_ERR_TLS_INVALID')
    expect(await presentedFingerprint(tandem.instance.gatewayUrl, goodPem)).toBe(first)
    const next = makeCert(dir, 'server', 'renewed')
    const accepted = await tandem.instance.reload('test')
    expect(accepted.ok).toBe(true)
    const renewed = await presentedFingerprint(tandem.instance.gatewayUrl, next.certPem)
    expect(renewed).not.toBe(first)
    cert = next
  })

  it('speaks h2c with prior knowledge and HTTP/1.1 on one cleartext port', async () => {
    const session = h2connect(cleartext.instance.gatewayUrl)
    const { status, body } = await h2Get(session, '/plain/h2c')
    session.close()
    expect(status).toBe(200)
    expect(JSON.parse(body)).toMatchObject({ name: 'plain', proto: 'http' })
    const res = await request(`${cleartext.instance.gatewayUrl}/plain/h1`)
    expect(res.statusCode).toBe(200)
    expect(await res.body.json()).toMatchObject({ name: 'plain' })
  })

  it('closes a session that sends malformed frames and keeps serving', async () => {
    const { port } = new URL(cleartext.instance.gatewayUrl)
    const socket = netConnect(Number(port), '127.0.0.1')
    socket.on('error', () => {})
    const frames: Buffer[] = []
    socket.on('data', (c: Buffer) => frames.push(c))
    socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
    // A frame header announcing a 16 MiB SETTINGS frame on stream 7, then garbage.
    socket.write(Buffer.from([0xff, 0xff, 0xff, 0x04, 0x00, 0x00, 0x00, 0x00, 0x07, 1, 2, 3, 4, 5, 6, 7, 8]))
    await once(socket, 'close')
    // The gateway answered GOAWAY (frame type 7) with FRAME_SIZE_ERROR (6) before closing.
    const received = Buffer.concat(frames)
    const goaway = received.indexOf(Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00, 0x00]), 3)
    expect(goaway).toBeGreaterThan(0)
    expect(received.readUInt32BE(goaway + 10)).toBe(6)
    const session = h2connect(cleartext.instance.gatewayUrl)
    expect((await h2Get(session, '/plain/after')).status).toBe(200)
    session.close()
  })

  it('streams a 50 MiB HTTP/2 upload and download end to end', async () => {
    const session = h2connect(cleartext.instance.gatewayUrl)
    try {
      uploadReceived = 0
      const up = session.request({ ':method': 'POST', ':path': '/big/upload' })
      let sent = 0
      const write = () => {
        while (sent < 50 * MiB) {
          sent += CHUNK.length
          if (!up.write(CHUNK)) return void up.once('drain', write)
        }
        up.end()
      }
      write()
      let answer = ''
      for await (const c of up) answer += (c as Buffer).toString()
      expect(JSON.parse(answer)).toEqual({ received: 50 * MiB })

      const down = session.request({ ':path': `/big/download?size=${50 * MiB}` })
      let received = 0
      for await (const c of down) received += (c as Buffer).length
      expect(received).toBe(50 * MiB)
    } finally {
      session.close()
    }
  })

  it('flow control holds end to end: a client that stops reading pauses the upstream', async () => {
    const session = h2connect(cleartext.instance.gatewayUrl)
    const total = 400 * MiB
    const stream = session.request({ ':path': `/big/download?size=${total}` })
    await once(stream, 'response')
    stream.pause()
    const progress = await eventually(async () => downloads.at(-1), {
      until: (p) => p !== undefined && p.written > 0,
    })
    // Wait until the upstream cannot write any more (its progress stays the same for a while).
    let last = -1
    let stable = 0
    for (let i = 0; i < 100 && stable < 5; i++) {
      await new Promise((r) => setTimeout(r, 200))
      stable = progress!.written === last ? stable + 1 : 0
      last = progress!.written
    }
    // Only the HTTP/2 windows and socket buffers hold data while the client does not read.
    expect(progress!.written).toBeLessThan(64 * MiB)
    stream.destroy()
    session.close()
  })

  it('an upload to an upstream that does not read stops the client (no buffering in the gateway)', async () => {
    pauseUploads = true
    const session = h2connect(cleartext.instance.gatewayUrl)
    const up = session.request({ ':method': 'POST', ':path': '/big/stalled' })
    up.on('error', () => {})
    let sent = 0
    const limit = 400 * MiB
    while (sent < limit) {
      sent += CHUNK.length
      if (!up.write(CHUNK)) {
        const drained = await drainedOrStalled(up)
        if (!drained) break
      }
    }
    expect(sent).toBeLessThan(64 * MiB)
    up.destroy()
    session.close()
    pauseUploads = false
  })
})
