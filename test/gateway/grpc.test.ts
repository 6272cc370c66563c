// gRPC through the gateway (SPEC 3a), with the example's orders services (examples/grpc): in shadow the
// client gets exactly legacy's answers and statuses, `tandem diffs` names the changed field, the added
// field and the status difference by proto3 JSON path, and not the field two legacy instances disagree
// on; a candidate that is down, slow or resets is invisible in shadow and a gRPC status in canary.
import { writeFileSync } from 'node:fs'
import { createServer as createH2Server, constants as h2constants, type Http2Server } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadOrdersService, ordersHandlers, PROTO, startOrders, type Order } from '../../examples/grpc/services.js'
import type { ComparisonEngine } from '../../src/compare/engine.js'
import { tandem as cli } from '../support/cli.js'
import { client, expectLegacyAnswers, importOrders, unary, watch } from './fixtures/orders-client.js'
import type { ConfigInput } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { deadUrl, promValue } from '../support/loopback.js'
import { temporaryDir } from '../support/temp-dir.js'

describe('gRPC mirrored through the gateway', () => {
  const servers: grpc.Server[] = []
  let legacyPort: number
  let configFile: string
  let instance: TestInstance | undefined
  let engine: ComparisonEngine

  beforeAll(async () => {
    let tick = 0
    const legacy = await startOrders('127.0.0.1:0', { rewrite: false, now: () => `legacy-${tick++}` })
    const secondary = await startOrders('127.0.0.1:0', { rewrite: false, now: () => `secondary-${tick++}` })
    const candidate = await startOrders('127.0.0.1:0', { rewrite: true, now: () => `candidate-${tick++}` })
    servers.push(legacy.server, secondary.server, candidate.server)
    legacyPort = legacy.port
    const dir = temporaryDir('tandem-grpc-')
    const yaml = `version: 1
store: sqlite:${join(dir, 'tandem.db')}
systems:
  - name: orders
    protocol: grpc
    grpc: { protos: [${PROTO}] }
    legacy: { url: http://127.0.0.1:${legacy.port}, secondary: http://127.0.0.1:${secondary.port} }
    candidate: { url: http://127.0.0.1:${candidate.port} }
    routes:
      - path: /orders.v1.Orders/GetOrder
      - path: /orders.v1.Orders/ListOrders
      - path: /orders.v1.Orders/*
    shadow: { timeout: 10s }
`
    instance = await buildInstance(parse(yaml) as ConfigInput, { dir, comparisons: {} })
    configFile = instance.configFile
    instance.routing.set('orders', { stage: 'shadow', weight: 0, activeArm: 'legacy', paused: false })
    engine = instance.instance.comparisons as unknown as ComparisonEngine
  })

  afterAll(async () => {
    await instance?.close()
    for (const s of servers) s.forceShutdown()
  })

  it('in shadow, clients get exactly legacy answers and statuses; streams are forwarded, not mirrored', async () => {
    const direct = client(`http://127.0.0.1:${legacyPort}`)
    const through = client(instance!.gatewayUrl)
    let recorded = 0
    const expected = 20 + 5
    const all = new Promise<void>((resolve) => engine.onRecord(() => void (++recorded === expected && resolve())))
    await expectLegacyAnswers(direct, through)
    // Client streaming through the gateway works, and is counted as skip `streaming`.
    expect(await importOrders(through, 3)).toBe(3)
    // So is bidi streaming.
    const watched = await watch(through, ['a', 'b'])
    expect(watched).toEqual(['a', 'b'])
    await all
    const labels = { system: 'orders', result: 'streaming' }
    const skipped = await promValue(instance!.adminUrl, 'tandem_shadow_total', labels)
    expect(skipped).toBe(2)
    direct.close()
    through.close()
  })

  it('tandem diffs names the changed field, the added field and the status difference, not the noise', async () => {
    await instance!.close()
    instance = undefined
    const out = await cli(['diffs', 'orders', '--json', '-c', configFile])
    const report = JSON.parse(out.stdout)
    const routes = report.routes as { route: string }[]
    const route = (name: string) => routes.find((r) => r.route === `/orders.v1.Orders/${name}`) as never
    const field = (r: { fields: { path: string }[] }, path: string) => r.fields.find((f) => f.path === path)
    const get = route('GetOrder')
    expect(get).toMatchObject({ compared: 20 })
    // Fields are grouped by path with array indexes as `*` (proto3 JSON names: totalCents, traceId).
    expect(field(get, '/items/*/price')).toMatchObject({ kind: 'changed', raw: 19, real: true })
    expect(field(get, '/note')).toMatchObject({ kind: 'added', raw: 19, real: true })
    expect(field(get, 'status')).toMatchObject({ kind: 'changed', raw: 1, real: true })
    // traceId differs between the two legacy instances too: noise, never reported as real.
    expect(field(get, '/traceId')).toMatchObject({ real: false, noise: 20 })
    const stream = route('ListOrders')
    expect(stream).toMatchObject({ compared: 5 })
    expect(field(stream, '/*/items/*/price')).toMatchObject({ kind: 'changed', raw: 5, real: true })
    expect(field(stream, '/*/note')).toMatchObject({ kind: 'added', raw: 5, real: true })
    expect(field(stream, '/*/traceId')).toMatchObject({ real: false })
    expect(out.code).toBe(1)
  }, 60_000)
})

describe('gRPC upstream failures', () => {
  const servers: grpc.Server[] = []
  let resetting: Http2Server
  let tandem: TestInstance
  let legacyUrl: string
  let slowUrl: string
  let resetUrl: string
  let downUrl: string
  const dir = temporaryDir('tandem-grpc-fail-')
  const deadlines: string[] = []

  async function useCandidate(url: string): Promise<void> {
    writeFileSync(tandem.configFile, config(url))
    expect((await tandem.instance.reload('test')).ok).toBe(true)
  }

  function config(candidate: string): string {
    return `version: 1
gateway: { upstreamTimeout: 500ms }
systems:
  - name: orders
    protocol: grpc
    grpc: { protos: [${PROTO}] }
    legacy: { url: ${legacyUrl} }
    candidate: { url: ${candidate} }
    routes: [{ path: /orders.v1.Orders/* }]
    shadow: { timeout: 500ms }
store: sqlite:${join(dir, 'tandem.db')}
`
  }

  beforeAll(async () => {
    const legacy = new grpc.Server()
    legacy.addService(loadOrdersService(), {
      ...ordersHandlers({ rewrite: false }),
      GetOrder(call: grpc.ServerUnaryCall<{ id: string }, Order>, callback: grpc.sendUnaryData<Order>) {
        // The deadline the client set reaches the upstream (grpc-timeout passed through).
        deadlines.push(call.getDeadline() === Infinity ? 'none' : 'set')
        callback(null, { id: call.request.id, customer: 'c', items: [], totalCents: '0', traceId: 'now' })
      },
    })
    const slow = new grpc.Server()
    slow.addService(loadOrdersService(), {
      ...ordersHandlers({ rewrite: true }),
      GetOrder(call: grpc.ServerUnaryCall<{ id: string }, Order>, callback: grpc.sendUnaryData<Order>) {
        // Answers well after gateway.upstreamTimeout and shadow.timeout (bounded: the test ends first).
        const late = { id: call.request.id, customer: 'late', items: [], totalCents: '0', traceId: '' }
        setTimeout(() => callback(null, late), 3_000).unref()
      },
    })
    const bind = (s: grpc.Server) =>
      new Promise<number>((resolve, reject) =>
        s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
      )
    legacyUrl = `http://127.0.0.1:${await bind(legacy)}`
    slowUrl = `http://127.0.0.1:${await bind(slow)}`
    servers.push(legacy, slow)
    resetting = createH2Server()
    resetting.on('stream', (stream) => {
      stream.on('error', () => {})
      stream.close(h2constants.NGHTTP2_INTERNAL_ERROR)
    })
    resetting.listen(0, '127.0.0.1')
    await new Promise((r) => resetting.once('listening', r))
    resetUrl = `http://127.0.0.1:${(resetting.address() as AddressInfo).port}`
    downUrl = await deadUrl()
    tandem = await buildInstance(parse(config(downUrl)) as ConfigInput, { dir })
  })

  afterAll(async () => {
    await tandem?.close()
    for (const s of servers) s.forceShutdown()
    resetting?.close()
  })

  it('a candidate that is down, slow or resets is invisible in shadow', async () => {
    tandem.instance.routing.set('orders', { stage: 'shadow', weight: 0, activeArm: 'legacy', paused: false })
    const c = client(tandem.instance.gatewayUrl)
    for (const url of [downUrl, slowUrl, resetUrl]) {
      await useCandidate(url)
      const got = await unary<Order>(c, 'GetOrder', { id: 'x' })
      expect(got).toMatchObject({ code: 0, value: { id: 'x' } })
    }
    c.close()
    // The mirrors' failures are the candidate's errors in metrics (what rollback triggers read).
    const labels = { system: 'orders', arm: 'candidate', status: 'error' }
    const read = () => promValue(tandem.instance.adminUrl, 'tandem_requests_total', labels)
    const errors = await eventually(read, { until: (n) => n >= 3 })
    expect(errors).toBe(3)
  })

  it('in canary the client gets UNAVAILABLE or DEADLINE_EXCEEDED, counted as candidate errors', async () => {
    tandem.instance.routing.set('orders', { stage: 'canary', weight: 100, activeArm: 'legacy', paused: false })
    const c = client(tandem.instance.gatewayUrl)
    const labels = { system: 'orders', arm: 'candidate', status: 'error' }
    const candidateErrors = () => promValue(tandem.instance.adminUrl, 'tandem_requests_total', labels)
    const errorsBefore = await candidateErrors()
    await useCandidate(downUrl)
    const down = await unary<Order>(c, 'GetOrder', { id: 'x' })
    expect(down.code).toBe(grpc.status.UNAVAILABLE)
    expect(down.details).toContain('candidate of system "orders"')
    await useCandidate(slowUrl)
    const slow = await unary<Order>(c, 'GetOrder', { id: 'x' })
    expect(slow.code).toBe(grpc.status.DEADLINE_EXCEEDED)
    await useCandidate(resetUrl)
    const reset = await unary<Order>(c, 'GetOrder', { id: 'x' })
    expect(reset.code).toBe(grpc.status.UNAVAILABLE)
    const errorsAfter = await candidateErrors()
    expect(errorsAfter - errorsBefore).toBe(3)
    c.close()
  })

  it('passes grpc-timeout; an unknown method or an undecodable message is a gRPC status; keeps serving', async () => {
    tandem.instance.routing.set('orders', { stage: 'pending', weight: 0, activeArm: 'legacy', paused: false })
    const c = client(tandem.instance.gatewayUrl)
    deadlines.length = 0
    expect((await unary<Order>(c, 'GetOrder', { id: 'd' }, { deadline: Date.now() + 60_000 })).code).toBe(0)
    expect((await unary<Order>(c, 'GetOrder', { id: 'n' })).code).toBe(0)
    expect(deadlines).toEqual(['set', 'none'])
    const raw = new grpc.Client(new URL(tandem.instance.gatewayUrl).host, grpc.credentials.createInsecure())
    const call = (path: string, bytes: Buffer) =>
      new Promise<number>((resolve) =>
        raw.makeUnaryRequest(
          path,
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          (e) => resolve(e === null ? 0 : e.code),
        ),
      )
    expect(await call('/orders.v1.Orders/NoSuchMethod', Buffer.alloc(0))).toBe(grpc.status.UNIMPLEMENTED)
    expect(await call('/other.v1.Service/Method', Buffer.alloc(0))).toBe(grpc.status.UNIMPLEMENTED)
    expect(await call('/orders.v1.Orders/GetOrder', Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBe(grpc.status.INTERNAL)
    expect((await unary<Order>(c, 'GetOrder', { id: 'after' })).code).toBe(0)
    raw.close()
    c.close()
  })
})
