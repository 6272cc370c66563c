// Backpressure proven by the streams themselves (undici's test/socket-back-pressure.js), beside the RSS
// test of streaming.test.ts: while one side stops reading, the bytes the gateway holds (read from one
// socket, not yet handed to the other) stay bounded, the writer sees write() return false, and once
// reading resumes every byte arrives, in order.
import { createHash } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'
import { once } from 'node:events'
import { request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { system, tandemConfig } from '../support/config.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { origin, type Origin } from '../support/loopback.js'

const MiB = 1024 * 1024
const TOTAL = 64 * MiB
const CHUNK_BYTES = 64 * 1024
/** What the gateway may hold of one body at a time (~128 KiB seen): a few high-water marks, far below the body. */
const HELD_LIMIT = MiB

/** Chunk `i` of a body: its bytes differ from chunk to chunk, so a lost or reordered chunk changes the hash. */
function chunk(i: number): Buffer {
  return Buffer.alloc(CHUNK_BYTES, i % 251)
}

/** A writer that respects backpressure, with what it managed to write and whether it waits for 'drain'. */
interface Writer {
  written: number
  waitingDrain: boolean
  /** write() returned false at least once. */
  blocked: boolean
  readonly hash: ReturnType<typeof createHash>
}

function pump(target: ServerResponse | ClientRequest, total: number, w: Writer): void {
  const next = () => {
    w.waitingDrain = false
    while (w.written < total && !target.destroyed) {
      const c = chunk(w.written / CHUNK_BYTES)
      w.hash.update(c)
      w.written += c.length
      if (!target.write(c)) {
        w.blocked = w.waitingDrain = true
        return void target.once('drain', next)
      }
    }
    if (w.written >= total) target.end()
  }
  next()
}

const newWriter = (): Writer => ({ written: 0, waitingDrain: false, blocked: false, hash: createHash('sha256') })

/** Bytes a socket has handed to the kernel (bytesWritten also counts what still waits in its buffer). */
const flushed = (s: Socket) => s.bytesWritten - s.writableLength

/**
 * Poll until `stalled()` holds and `progress()` has not moved for 10 polls (bounded: ~20 s at most);
 * no assertion is made on time, only on the state reached.
 */
async function untilStalled(progress: () => number, stalled: () => boolean): Promise<void> {
  let last = -1
  let still = 0
  for (let i = 0; i < 400 && still < 10; i++) {
    await new Promise((r) => setTimeout(r, 50))
    const now = progress()
    still = stalled() && now === last ? still + 1 : 0
    last = now
  }
}

/** The gateway's own sockets for a request, seen on the diagnostics channels of node:http and undici. */
interface GatewaySockets {
  client?: Socket
  response?: ServerResponse
  upstream?: Socket
}

describe('backpressure through the gateway, measured on the streams', () => {
  let upstream: Origin
  let tandem: TestInstance
  const sockets = new Map<string, GatewaySockets>()
  const downloads = new Map<string, Writer>()
  const uploads = new Map<string, { req: IncomingMessage; res: ServerResponse }>()
  const entry = (id: string) => sockets.get(id) ?? (sockets.set(id, {}), sockets.get(id)!)

  // node:http announces every request its servers receive; the gateway's are the ones not to the upstream.
  const onServerRequest = (message: unknown) => {
    const m = message as { request: IncomingMessage; response: ServerResponse; socket: Socket; server: unknown }
    const id = m.request.headers['x-test-id']
    if (typeof id !== 'string' || m.server === upstream.server) return
    Object.assign(entry(id), { client: m.socket, response: m.response })
  }
  // undici announces the socket each upstream request goes out on.
  const onUpstreamHeaders = (message: unknown) => {
    const m = message as { request: { path: string }; socket: Socket }
    const id = /[?&]id=([\w-]+)/.exec(m.request.path)?.[1]
    if (id !== undefined) entry(id).upstream = m.socket
  }

  beforeAll(async () => {
    diagnostics.subscribe('http.server.request.start', onServerRequest)
    diagnostics.subscribe('undici:client:sendHeaders', onUpstreamHeaders)
    upstream = await origin((req, res) => {
      const id = req.headers['x-test-id'] as string
      if (req.method === 'POST') {
        // Read nothing until the test says so.
        req.pause()
        uploads.set(id, { req, res })
        return
      }
      const w = newWriter()
      downloads.set(id, w)
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) })
      pump(res, TOTAL, w)
    }, false)
    tandem = await buildInstance(
      tandemConfig({
        gateway: { upstreamTimeout: '5m' },
        systems: [system('bulk', { legacy: upstream.url, routes: [{ path: '/bulk/**' }] })],
      }),
    )
  })

  afterAll(async () => {
    diagnostics.unsubscribe('http.server.request.start', onServerRequest)
    diagnostics.unsubscribe('undici:client:sendHeaders', onUpstreamHeaders)
    await tandem?.close()
    await upstream?.close()
  })

  it('a client that stops reading a 64 MiB download pauses the upstream; the gateway holds under 1 MiB', async () => {
    const id = 'download'
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const url = `${tandem.instance.gatewayUrl}/bulk/file?id=${id}`
      const r = httpRequest(url, { agent: false, headers: { 'x-test-id': id } }, resolve)
      r.on('error', reject)
      r.end()
    })
    // The client reads nothing: node:http stops reading its socket once its small buffer is full.
    res.pause()
    const w = downloads.get(id)!
    await untilStalled(
      () => w.written,
      () => w.waitingDrain,
    )
    const s = sockets.get(id)!
    expect(s.client && s.response && s.upstream).toBeTruthy()

    // The upstream was told to wait (write() returned false) and is still waiting for 'drain'.
    expect(w.blocked).toBe(true)
    expect(w.waitingDrain).toBe(true)
    expect(w.written).toBeLessThan(TOTAL)
    // What the gateway read from the upstream and has not yet handed to the client's socket.
    const held = s.upstream!.bytesRead - flushed(s.client!)
    expect(held).toBeLessThan(HELD_LIMIT)
    // The response's own buffer (ServerResponse + socket) toward the client.
    expect(s.response!.writableLength).toBeLessThan(HELD_LIMIT)
    expect(s.response!.writableNeedDrain).toBe(true)

    // Reading again resumes the upstream: every byte arrives, in order.
    const hash = createHash('sha256')
    let received = 0
    res.on('data', (c: Buffer) => {
      received += c.length
      hash.update(c)
    })
    res.resume()
    await once(res, 'end')
    expect(received).toBe(TOTAL)
    expect(hash.digest('hex')).toBe(w.hash.digest('hex'))
  })

  it('an upstream that stops reading a 64 MiB upload pauses the client; the gateway holds under 1 MiB', async () => {
    const id = 'upload'
    const w = newWriter()
    const req = httpRequest(`${tandem.instance.gatewayUrl}/bulk/upload?id=${id}`, {
      method: 'POST',
      agent: false,
      headers: { 'x-test-id': id, 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) },
    })
    const answer = new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', resolve)
      req.on('error', reject)
    })
    pump(req, TOTAL, w)
    await untilStalled(
      () => w.written,
      () => w.waitingDrain && uploads.has(id),
    )
    const s = sockets.get(id)!
    expect(s.client && s.upstream).toBeTruthy()

    expect(w.blocked).toBe(true)
    expect(w.waitingDrain).toBe(true)
    expect(w.written).toBeLessThan(TOTAL)
    // What the gateway read from the client and has not yet handed to the upstream's socket.
    const held = s.client!.bytesRead - flushed(s.upstream!)
    expect(held).toBeLessThan(HELD_LIMIT)

    // The upstream reads again: the client's writes resume and every byte arrives, in order.
    const { req: upstreamReq, res: upstreamRes } = uploads.get(id)!
    const hash = createHash('sha256')
    let received = 0
    upstreamReq.on('data', (c: Buffer) => {
      received += c.length
      hash.update(c)
    })
    upstreamReq.on('end', () => upstreamRes.end(JSON.stringify({ received, sha256: hash.digest('hex') })))
    upstreamReq.resume()
    const res = await answer
    expect(res.statusCode).toBe(200)
    const chunks: Buffer[] = []
    for await (const c of res) chunks.push(c as Buffer)
    expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual({ received: TOTAL, sha256: w.hash.digest('hex') })
  })
})
