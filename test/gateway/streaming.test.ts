// Bodies stream through the gateway of a real `tandem up` process (gateway, admin listener, store and
// controller): 50 MiB each way (HTTP/1.1 and HTTP/2) with the process's peak RSS under 150 MB, a client
// that stops reading pauses the upstream instead of filling the gateway, a client abort cancels upstream.
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { connect as h2connect } from 'node:http2'
import { Readable } from 'node:stream'
import { request } from 'undici'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { system, tandemConfig, writeConfig } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { temporaryDir } from '../support/temp-dir.js'
import { spawnUp, type UpProcess } from '../support/up.js'
import { origin, type Origin } from '../support/loopback.js'

const MiB = 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, 7)
const RSS_LIMIT = 150 * 1000 * 1000

/** Write `total` bytes to `res` respecting backpressure; `progress.written` grows as it goes. */
function stream(
  res: import('node:http').ServerResponse,
  total: number,
  progress: { written: number; aborted: boolean },
) {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) })
  res.on('close', () => {
    if (!res.writableFinished) progress.aborted = true
  })
  const pump = () => {
    while (progress.written < total && !res.destroyed) {
      const n = Math.min(CHUNK.length, total - progress.written)
      progress.written += n
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump)
    }
    if (progress.written >= total) res.end()
  }
  pump()
}

function generated(total: number): Readable {
  let sent = 0
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null)
      const n = Math.min(CHUNK.length, total - sent)
      sent += n
      this.push(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))
    },
  })
}

describe('streaming through the gateway of `tandem up` (child process)', () => {
  let upstream: Origin
  let gw: UpProcess
  let configFile: string
  const downloads = new Map<string, { written: number; aborted: boolean }>()

  beforeAll(async () => {
    upstream = await origin((req, res) => {
      if (req.method === 'POST') {
        let received = 0
        req.on('data', (c: Buffer) => (received += c.length))
        req.on('end', () => res.end(JSON.stringify({ received })))
        return
      }
      const size = Number(new URL(req.url!, 'http://x').searchParams.get('size'))
      const progress = { written: 0, aborted: false }
      downloads.set(req.headers['x-test-id'] as string, progress)
      stream(res, size, progress)
    }, false)
    // One system `files` on the upstream, every path.
    const dir = temporaryDir('tandem-stream-')
    configFile = writeConfig(dir, tandemConfig({ dir, systems: [system('files', { legacy: upstream.url })] }))
  })

  // A fresh gateway process per case: each peak RSS belongs to that case alone. It runs the compiled
  // dist/, as an installed tandem does: the TypeScript loader alone would add ~30 MB.
  beforeEach(async () => {
    gw = await spawnUp(configFile, { dist: true })
  })

  afterEach(async () => {
    await gw?.stop()
  })

  afterAll(async () => {
    await upstream?.close()
  })

  it('streams a 50 MiB upload with the gateway RSS under 150 MB', async () => {
    const res = await request(`${gw.gatewayUrl}/upload`, {
      method: 'POST',
      body: generated(50 * MiB),
      headers: { 'content-type': 'application/octet-stream' },
    })
    expect(res.statusCode).toBe(200)
    expect(await res.body.json()).toEqual({ received: 50 * MiB })
    expect(gw.peakRss()).toBeLessThan(RSS_LIMIT)
  })

  it('streams a 50 MiB download with the gateway RSS under 150 MB', async () => {
    const res = await request(`${gw.gatewayUrl}/download?size=${50 * MiB}`, { headers: { 'x-test-id': 'download' } })
    expect(res.statusCode).toBe(200)
    let received = 0
    for await (const chunk of res.body) received += (chunk as Buffer).length
    expect(received).toBe(50 * MiB)
    expect(gw.peakRss()).toBeLessThan(RSS_LIMIT)
  })

  it('streams a 50 MiB HTTP/2 (h2c) upload and download within the same RSS bound', async () => {
    const session = h2connect(gw.gatewayUrl)
    try {
      const up = session.request({ ':method': 'POST', ':path': '/upload' })
      generated(50 * MiB).pipe(up)
      let answer = ''
      for await (const c of up) answer += (c as Buffer).toString()
      expect(JSON.parse(answer)).toEqual({ received: 50 * MiB })
      const down = session.request({ ':path': `/download?size=${50 * MiB}`, 'x-test-id': 'h2-download' })
      let received = 0
      for await (const c of down) received += (c as Buffer).length
      expect(received).toBe(50 * MiB)
    } finally {
      session.close()
    }
    expect(gw.peakRss()).toBeLessThan(RSS_LIMIT)
  })

  it('a client that stops reading pauses the upstream instead of buffering the body', async () => {
    const total = 400 * MiB
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const r = httpRequest(`${gw.gatewayUrl}/download?size=${total}`, { headers: { 'x-test-id': 'slow' } }, resolve)
      r.on('error', reject)
      r.end()
    })
    res.pause()
    // Wait until the upstream cannot write any more (its progress stays the same for a while).
    let last = -1
    let stable = 0
    for (let i = 0; i < 100 && stable < 5; i++) {
      await new Promise((r) => setTimeout(r, 200))
      const now = downloads.get('slow')?.written ?? 0
      stable = now === last && now > 0 ? stable + 1 : 0
      last = now
    }
    const stalledAt = downloads.get('slow')!.written
    // Only socket buffers hold data while the client does not read: far from the whole body.
    expect(stalledAt).toBeLessThan(64 * MiB)
    expect(gw.peakRss()).toBeLessThan(RSS_LIMIT)
    // Reading again resumes the upstream and the whole body arrives.
    let received = 0
    res.on('data', (c: Buffer) => (received += c.length))
    res.resume()
    await new Promise((r) => res.on('end', r))
    expect(received).toBe(total)
  })

  it('a client abort cancels the upstream request', async () => {
    const total = 400 * MiB
    await new Promise<void>((resolve, reject) => {
      const r = httpRequest(`${gw.gatewayUrl}/download?size=${total}`, { headers: { 'x-test-id': 'abort' } }, (res) => {
        let received = 0
        res.on('data', (c: Buffer) => {
          received += c.length
          if (received >= MiB) {
            r.destroy()
            resolve()
          }
        })
      })
      r.on('error', () => {})
      r.on('close', () => resolve())
      r.end()
      setTimeout(() => reject(new Error('no data arrived')), 30_000).unref()
    })
    const progress = await eventually(() => downloads.get('abort')!, { until: (p) => p.aborted, tries: 200 })
    expect(progress.aborted).toBe(true)
    expect(progress.written).toBeLessThan(total)
  })
})
