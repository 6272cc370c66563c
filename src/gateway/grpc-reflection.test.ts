// gRPC server reflection against real grpc-js servers with @grpc/reflection on loopback: the reflection
// client (v1, v1alpha fallback, UNIMPLEMENTED), and the reflected types' lifecycle (a legacy down then up,
// a service added by a deploy, picked up when a call names it).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as loader from '@grpc/proto-loader'
import { ReflectionService } from '@grpc/reflection'
import { afterAll, describe, expect, it } from 'vitest'
import { loadOrdersService, ordersHandlers, PROTO, startOrders } from '../../examples/grpc/services.js'
import { makeCert } from '../../test/gateway/fixtures/certs.js'
import { eventually } from '../../test/support/eventually.js'
import { deadUrl } from '../../test/support/loopback.js'
import { temporaryDir } from '../../test/support/temp-dir.js'
import type { CapturedResponse, Exchange } from '../compare/sink.js'
import { loadGrpcCodec, methodsOf } from './grpc-codec.js'
import { GrpcExchangeSink } from './grpc.js'
import { ReflectedCodec, type GatewayLog } from './grpc-reflected-codec.js'
import { ReflectionClient, rootOf, type FileDescriptor } from './grpc-reflection.js'
import { PoolRegistry } from './upstreams.js'

const pools = new PoolRegistry()
const servers: grpc.Server[] = []

afterAll(async () => {
  for (const s of servers) s.forceShutdown()
  await pools.closeAll()
})

function legacyAt(port: number) {
  const options = { connections: 1, connectTimeoutMs: 2_000 }
  return pools.upstream('legacy', `http://127.0.0.1:${port}`, {}, 'keep', 'serve', options, { grpc: new Set() })
}

async function bind(server: grpc.Server, port = 0, credentials = grpc.ServerCredentials.createInsecure()) {
  servers.push(server)
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, credentials, (e, p) => (e ? reject(e) : resolve(p))),
  )
}

/** A log that keeps its lines. */
function recordingLog(): GatewayLog & { lines: Array<{ level: string; fields: object; message: string }> } {
  const lines: Array<{ level: string; fields: object; message: string }> = []
  return {
    lines,
    info: (fields, message) => void lines.push({ level: 'info', fields, message }),
    error: (fields, message) => void lines.push({ level: 'error', fields, message }),
  }
}

describe('gRPC server reflection client', () => {
  it('lists the services and reads their files into types that know which methods stream', async () => {
    const { port, server } = await startOrders('127.0.0.1:0', { rewrite: false }, { reflection: true })
    servers.push(server)
    const client = new ReflectionClient(legacyAt(port), 5_000)
    const services = await client.services()
    expect(services).toEqual(['orders.v1.Orders'])
    const files = new Map<string, FileDescriptor>()
    expect(await client.filesOf(services, files)).toEqual([])
    const methods = methodsOf(rootOf(files))
    expect(methods.get('/orders.v1.Orders/GetOrder')).toMatchObject({ requestStream: false, responseStream: false })
    expect(methods.get('/orders.v1.Orders/ListOrders')).toMatchObject({ requestStream: false, responseStream: true })
    expect(methods.get('/orders.v1.Orders/ImportOrders')).toMatchObject({ requestStream: true })
    // proto3 JSON names, as grpc.protos are loaded: total_cents is totalCents.
    expect(Object.keys(methods.get('/orders.v1.Orders/GetOrder')!.responseType.fields)).toContain('totalCents')
    // A symbol the target does not know is returned, not thrown.
    expect(await client.filesOf(['nope.v1.Nothing'], files)).toEqual(['nope.v1.Nothing'])
  })

  it('falls back to v1alpha when v1 is UNIMPLEMENTED', async () => {
    const server = new grpc.Server()
    server.addService(loadOrdersService(), ordersHandlers({ rewrite: false }))
    const definition = loader.loadSync(PROTO, { keepCase: false })
    // Only the v1alpha service of @grpc/reflection (as older servers have).
    new ReflectionService(definition).addToServer({
      addService: (service, implementation) => {
        const paths = Object.values(service).map((m) => m.path)
        if (paths.every((p) => p.startsWith('/grpc.reflection.v1alpha.'))) server.addService(service, implementation)
      },
    })
    const client = new ReflectionClient(legacyAt(await bind(server)), 5_000)
    expect(await client.services()).toEqual(['orders.v1.Orders'])
  })

  it('asks an https:// target with a private CA over the TLS settings its calls use', async () => {
    const cert = makeCert(temporaryDir('tandem-reflect-tls-'), 'legacy')
    const server = new grpc.Server()
    server.addService(loadOrdersService(), ordersHandlers({ rewrite: false }))
    new ReflectionService(loader.loadSync(PROTO, { keepCase: false })).addToServer(server)
    const keys = [{ private_key: cert.keyPem, cert_chain: cert.certPem }]
    const port = await bind(server, 0, grpc.ServerCredentials.createSsl(null, keys))
    const options = { connections: 1, connectTimeoutMs: 2_000 }
    const transport = { tls: { ca: cert.cert, insecure: false }, grpc: new Set<number>() }
    const legacy = pools.upstream('legacy', `https://127.0.0.1:${port}`, {}, 'keep', 'serve', options, transport)
    expect(await new ReflectionClient(legacy, 5_000).services()).toEqual(['orders.v1.Orders'])
    // Without the CA the certificate is refused, as a call would be.
    const { tls: _ca, ...plain } = transport
    const untrusted = pools.upstream('legacy', `https://127.0.0.1:${port}`, {}, 'keep', 'serve', options, plain)
    await expect(new ReflectionClient(untrusted, 5_000).services()).rejects.toThrow(/certificate/)
  })

  it('says so when the target serves no reflection, or is down', async () => {
    const server = new grpc.Server()
    server.addService(loadOrdersService(), ordersHandlers({ rewrite: false }))
    const client = new ReflectionClient(legacyAt(await bind(server)), 5_000)
    await expect(client.services()).rejects.toThrow('does not serve gRPC server reflection (UNIMPLEMENTED)')
    const down = new ReflectionClient(legacyAt(Number(new URL(await deadUrl()).port)), 5_000)
    await expect(down.services()).rejects.toThrow()
  })
})

describe('types reflected from legacy', () => {
  it('a legacy down at first: the coded error is logged once, retried, and the types come once it is up', async () => {
    const port = Number(new URL(await deadUrl()).port)
    const log = recordingLog()
    const codec = new ReflectedCodec('orders', legacyAt(port), 2_000, log)
    try {
      await codec.start()
      expect(codec.method('/orders.v1.Orders/GetOrder')).toBeUndefined()
      expect(log.lines).toHaveLength(1)
      expect(log.lines[0]).toMatchObject({ level: 'error', fields: { code: 'TANDEM_ERR_GRPC_REFLECTION' } })
      expect(log.lines[0]!.message).toContain('enable gRPC server reflection on legacy or give grpc.protos')
      const { server } = await startOrders(`127.0.0.1:${port}`, { rewrite: false }, { reflection: true })
      servers.push(server)
      const method = await eventually(() => codec.method('/orders.v1.Orders/ListOrders'), {
        until: (m) => m !== undefined,
      })
      expect(method).toMatchObject({ responseStream: true })
      // One line per change of state: failing, then read.
      expect(log.lines.map((l) => l.level)).toEqual(['error', 'info'])
    } finally {
      codec.close()
    }
  })

  it('a service legacy serves after a deploy is asked for when a call names it', async () => {
    const dir = temporaryDir('tandem-reflect-')
    const extra = join(dir, 'extra.proto')
    writeFileSync(
      extra,
      'syntax = "proto3"; package extra.v1; message Ping { string text = 1; } ' +
        'service Extra { rpc Echo(Ping) returns (Ping); }\n',
    )
    const before = await startOrders('127.0.0.1:0', { rewrite: false }, { reflection: true })
    const legacy = legacyAt(before.port)
    const codec = new ReflectedCodec('orders', legacy, 5_000, recordingLog())
    try {
      await codec.start()
      expect(codec.method('/orders.v1.Orders/GetOrder')).toBeDefined()
      // The deploy: the same address now also serves extra.v1.Extra (once the old server's session is gone).
      const session = legacy.h2!.get(legacy)
      const gone = new Promise((resolve) => session.once('close', resolve))
      before.server.forceShutdown()
      await gone
      const after = new grpc.Server()
      after.addService(loadOrdersService(), ordersHandlers({ rewrite: false }))
      const definition = loader.loadSync([PROTO, extra], { keepCase: false })
      const pkg = grpc.loadPackageDefinition(definition) as unknown as {
        extra: { v1: { Extra: { service: grpc.ServiceDefinition } } }
      }
      const echo = (call: grpc.ServerUnaryCall<unknown, unknown>, done: grpc.sendUnaryData<unknown>) =>
        done(null, call.request)
      after.addService(pkg.extra.v1.Extra.service, { Echo: echo })
      new ReflectionService(definition).addToServer(after)
      await bind(after, before.port)
      expect(codec.method('/extra.v1.Extra/Echo')).toBeUndefined()
      // That call started the question; a comparison waits for it to settle.
      await codec.pending()
      expect(codec.method('/extra.v1.Extra/Echo')).toMatchObject({ requestStream: false, responseStream: false })
      expect(codec.method('/orders.v1.Orders/GetOrder')).toBeDefined()
    } finally {
      codec.close()
    }
  })

  it('an exchange that arrives while the types are read waits for them, then is compared as proto3 JSON', async () => {
    const { port, server } = await startOrders('127.0.0.1:0', { rewrite: false }, { reflection: true })
    servers.push(server)
    const codec = new ReflectedCodec('orders', legacyAt(port), 5_000, recordingLog())
    try {
      const started = codec.start()
      const seen: Exchange[] = []
      const sink = new GrpcExchangeSink({ submit: (e) => void seen.push(e) }, { codec, errorCodes: new Set() })
      // The bytes of an Order, framed as gRPC sends them.
      const type = loadGrpcCodec('s', [PROTO], [])!.method('/orders.v1.Orders/GetOrder')!.responseType
      const message = Buffer.from(type.encode(type.fromObject({ id: '7', totalCents: '1599' })).finish())
      const body = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message])
      const headers = { 'content-type': 'application/grpc', 'grpc-status': '0' }
      const answer: CapturedResponse = { ok: true, status: 200, headers, body, truncated: false, durationMs: 1 }
      const request = { method: 'POST', url: '/orders.v1.Orders/GetOrder', headers: {}, body: null }
      const exchange = { system: 'orders', route: '/orders.v1.Orders/*', at: 0, primary: 'legacy' as const, request }
      sink.submit({ ...exchange, legacy: answer, candidate: answer })
      await started
      const [converted] = await eventually(() => seen, { until: (s) => s.length === 1 })
      expect(JSON.parse((converted!.legacy as CapturedResponse).body.toString())).toEqual({
        id: '7',
        totalCents: '1599',
      })
    } finally {
      codec.close()
    }
  })
})
