// Shadow mode with a broken candidate (down, slower than the shadow timeout, resetting connections,
// answering garbage): clients get exactly the legacy response and each failure is counted by reason.
import { once } from 'node:events'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CountingSink } from '../../src/gateway/counting-sink.js'
import { system, tandemConfig } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { deadUrl, origin, promValue, type Origin } from '../support/loopback.js'

const BODY = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251))

async function rawServer(
  onSocket: (s: Socket) => void,
): Promise<{ url: string; server: NetServer; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>()
  const server = createNetServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
    onSocket(s)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, sockets }
}

/** The parts of a response a client relies on (hop-by-hop and per-connection headers excluded). */
async function observe(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const res = await request(url, { headers: { 'x-user-id': 'u1' } })
  const body = Buffer.from(await res.body.arrayBuffer())
  const headers: Record<string, unknown> = { ...res.headers }
  for (const h of ['date', 'connection', 'keep-alive', 'transfer-encoding']) delete headers[h]
  return { status: res.statusCode, headers, body }
}

describe('shadow mode with a failing candidate', () => {
  let legacy: Origin
  let slow: Origin
  let reset: Awaited<ReturnType<typeof rawServer>>
  let garbage: Awaited<ReturnType<typeof rawServer>>
  let tandem: TestInstance
  let down: string

  beforeAll(async () => {
    legacy = await origin((_req, res) => {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/'])
      res.writeHead(207, { 'content-type': 'application/octet-stream', 'x-legacy': 'yes', etag: '"v1"' })
      res.end(BODY)
    })
    slow = await origin((_req, res) => {
      const t = setTimeout(() => res.end('late'), 3_000)
      res.on('close', () => clearTimeout(t))
    })
    reset = await rawServer((s) => s.once('data', () => s.resetAndDestroy()))
    garbage = await rawServer((s) => s.once('data', () => s.end('THIS IS NOT HTTP\r\n\x00\x01\x02\r\n\r\n')))
    down = await deadUrl()
    const sys = (name: string, candidate: string) =>
      system(name, { legacy: legacy.url, candidate, routes: [{ path: `/${name}/**` }], shadow: { timeout: '300ms' } })
    tandem = await buildInstance(
      tandemConfig({
        systems: [sys('down', down), sys('slow', slow.url), sys('reset', reset.url), sys('garbage', garbage.url)],
      }),
    )
    for (const name of ['down', 'slow', 'reset', 'garbage'])
      tandem.instance.routing.set(name, { stage: 'shadow', weight: 0, activeArm: 'legacy', paused: false })
  })

  afterAll(async () => {
    await tandem?.close()
    await Promise.all([legacy?.close(), slow?.close()])
    for (const r of [reset, garbage]) {
      for (const s of r?.sockets ?? []) s.destroy()
      r?.server.close()
    }
  })

  const cases = [
    ['down', 'error'],
    ['slow', 'timeout'],
    ['reset', 'error'],
    ['garbage', 'error'],
  ] as const

  for (const [name, reason] of cases) {
    it(
      `candidate ${name}: clients get the legacy response ` + `byte for byte; the mirror failure counts as ${reason}`,
      async () => {
        const direct = await observe(`${legacy.url}/${name}/item?q=1`)
        for (let i = 0; i < 5; i++) {
          const viaGateway = await observe(`${tandem.instance.gatewayUrl}/${name}/item?q=1`)
          expect(viaGateway.status).toBe(207)
          expect(viaGateway.headers).toEqual(direct.headers)
          expect(viaGateway.body.equals(BODY)).toBe(true)
        }
        const counted = await eventually(
          () => promValue(tandem.instance.adminUrl, 'tandem_shadow_total', { system: name, result: reason }),
          { until: (n) => n >= 5 },
        )
        expect(counted).toBe(5)
        expect(
          await promValue(tandem.instance.adminUrl, 'tandem_shadow_total', { system: name, result: 'mirrored' }),
        ).toBe(0)
        // The comparison sink still receives the exchange, with the candidate marked as failed.
        const sink = tandem.instance.comparisons as CountingSink
        const exchanges = await eventually(async () => sink.recent.filter((e) => e.system === name), {
          until: (e) => e.length >= 5,
        })
        expect(exchanges.every((e) => e.primary === 'legacy' && e.legacy.ok && !e.candidate.ok)).toBe(true)
        expect(exchanges.every((e) => !e.candidate.ok && e.candidate.reason === reason)).toBe(true)
      },
    )
  }
})
