// gRPC types asked of legacy by server reflection (SPEC 3a, `grpc: { reflection: true }`), with the
// example's orders services (examples/grpc): with no .proto file the diff report names the changed and the
// added field by proto3 JSON path as with grpc.protos, server streams are arrays, client and bidi streams
// are skipped; a legacy without reflection still serves every call, the coded error is logged, and
// responses are compared by bytes; giving both protos and reflection is a coded config error.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { startOrders, type Order } from '../../examples/grpc/services.js'
import type { ComparisonEngine } from '../../src/compare/engine.js'
import { tandem as cli } from '../support/cli.js'
import { client, expectLegacyAnswers, importOrders, unary, watch } from './fixtures/orders-client.js'
import type { ConfigInput } from '../support/config.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { promValue } from '../support/loopback.js'
import { temporaryDir } from '../support/temp-dir.js'

/** A process log whose lines the test reads. */
function capturedLog() {
  const lines: Array<Record<string, unknown>> = []
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
  return { logger, lines }
}

function yaml(dir: string, legacy: string, candidate: string, secondary = ''): ConfigInput {
  return parse(`version: 1
store: sqlite:${join(dir, 'tandem.db')}
systems:
  - name: orders
    protocol: grpc
    grpc: { reflection: true }
    legacy: { url: ${legacy}${secondary === '' ? '' : `, secondary: ${secondary}`} }
    candidate: { url: ${candidate} }
    routes:
      - path: /orders.v1.Orders/GetOrder
      - path: /orders.v1.Orders/ListOrders
      - path: /orders.v1.Orders/*
    shadow: { timeout: 10s }
`) as ConfigInput
}

type Route = { route: string; compared: number; fields: Array<{ path: string; kind: string; samples: unknown[] }> }

async function diffs(configFile: string): Promise<{ code: number | null; route: (name: string) => Route }> {
  const out = await cli(['diffs', 'orders', '--json', '-c', configFile])
  const routes = JSON.parse(out.stdout).routes as Route[]
  return { code: out.code, route: (name) => routes.find((r) => r.route === `/orders.v1.Orders/${name}`)! }
}

describe('gRPC types from legacy by server reflection', () => {
  const servers: grpc.Server[] = []
  let instance: TestInstance | undefined
  let configFile: string
  let legacyUrl: string
  const log = capturedLog()

  beforeAll(async () => {
    let tick = 0
    const legacy = await startOrders(
      '127.0.0.1:0',
      { rewrite: false, now: () => `legacy-${tick++}` },
      { reflection: true },
    )
    const secondary = await startOrders('127.0.0.1:0', { rewrite: false, now: () => `secondary-${tick++}` })
    const candidate = await startOrders('127.0.0.1:0', { rewrite: true, now: () => `candidate-${tick++}` })
    servers.push(legacy.server, secondary.server, candidate.server)
    legacyUrl = `http://127.0.0.1:${legacy.port}`
    const dir = temporaryDir('tandem-grpc-reflection-')
    const config = yaml(dir, legacyUrl, `http://127.0.0.1:${candidate.port}`, `http://127.0.0.1:${secondary.port}`)
    instance = await buildInstance(config, { dir, comparisons: {}, instance: { logger: log.logger } })
    configFile = instance.configFile
    instance.routing.set('orders', { stage: 'shadow', weight: 0, activeArm: 'legacy', paused: false })
  })

  afterAll(async () => {
    await instance?.close()
    for (const s of servers) s.forceShutdown()
  })

  it('reads the types at start; in shadow clients get legacy answers; client and bidi streams skipped', async () => {
    const read = log.lines.find((l) => l.msg === 'gRPC message types read from legacy by server reflection')
    expect(read).toMatchObject({ system: 'orders', methods: 4 })
    const engine = instance!.instance.comparisons as unknown as ComparisonEngine
    let recorded = 0
    const all = new Promise<void>((resolve) => engine.onRecord(() => void (++recorded === 20 + 5 && resolve())))
    const direct = client(legacyUrl)
    const through = client(instance!.gatewayUrl)
    await expectLegacyAnswers(direct, through)
    expect(await importOrders(through, 3)).toBe(3)
    const watched = await watch(through, ['a'])
    expect(watched).toEqual(['a'])
    await all
    const skipped = await promValue(instance!.adminUrl, 'tandem_shadow_total', {
      system: 'orders',
      result: 'streaming',
    })
    expect(skipped).toBe(2)
    direct.close()
    through.close()
  })

  it('tandem diffs names the changed and the added field by proto3 JSON path, as with grpc.protos', async () => {
    await instance!.close()
    instance = undefined
    const report = await diffs(configFile)
    const field = (r: Route, path: string) => r.fields.find((f) => f.path === path)
    const get = report.route('GetOrder')
    expect(get).toMatchObject({ compared: 20 })
    expect(field(get, '/items/*/price')).toMatchObject({ kind: 'changed', raw: 19, real: true })
    expect(field(get, '/note')).toMatchObject({ kind: 'added', raw: 19, real: true })
    expect(field(get, 'status')).toMatchObject({ kind: 'changed', raw: 1, real: true })
    expect(field(get, '/traceId')).toMatchObject({ real: false, noise: 20 })
    const stream = report.route('ListOrders')
    expect(stream).toMatchObject({ compared: 5 })
    expect(field(stream, '/*/items/*/price')).toMatchObject({ kind: 'changed', raw: 5, real: true })
    expect(field(stream, '/*/note')).toMatchObject({ kind: 'added', raw: 5, real: true })
    expect(report.code).toBe(1)
  }, 60_000)
})

describe('a legacy without server reflection', () => {
  const servers: grpc.Server[] = []
  let instance: TestInstance | undefined
  const log = capturedLog()

  afterAll(async () => {
    await instance?.close()
    for (const s of servers) s.forceShutdown()
  })

  it('serves every call with legacy answers, logs the coded error once, and compares by bytes', async () => {
    const legacy = await startOrders('127.0.0.1:0', { rewrite: false, now: () => 'legacy' })
    const candidate = await startOrders('127.0.0.1:0', { rewrite: true, now: () => 'candidate' })
    servers.push(legacy.server, candidate.server)
    const dir = temporaryDir('tandem-grpc-no-reflection-')
    const legacyUrl = `http://127.0.0.1:${legacy.port}`
    const config = yaml(dir, legacyUrl, `http://127.0.0.1:${candidate.port}`)
    instance = await buildInstance(config, { dir, comparisons: {}, instance: { logger: log.logger } })
    instance.routing.set('orders', { stage: 'shadow', weight: 0, activeArm: 'legacy', paused: false })
    const engine = instance.instance.comparisons as unknown as ComparisonEngine
    let recorded = 0
    const all = new Promise<void>((resolve) => engine.onRecord(() => void (++recorded === 5 && resolve())))
    const through = client(instance.gatewayUrl)
    for (let i = 1; i <= 5; i++) {
      const got = await unary<Order>(through, 'GetOrder', { id: String(i) })
      expect(got).toMatchObject({ code: 0, value: { id: String(i), customer: `customer-${i}`, traceId: 'legacy' } })
    }
    through.close()
    await all
    const errors = log.lines.filter((l) => l.code === 'TANDEM_ERR_GRPC_REFLECTION')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ level: 50, system: 'orders' })
    expect(errors[0]!.msg).toContain('UNIMPLEMENTED')
    expect(errors[0]!.msg).toContain('enable gRPC server reflection on legacy or give grpc.protos')
    const configFile = instance.configFile
    await instance.close()
    instance = undefined
    // Without types the whole body differs, by SHA-256: no field path inside the message.
    const get = (await diffs(configFile)).route('GetOrder')
    expect(get).toMatchObject({ compared: 5, mismatches: 5 })
    expect(get.fields.map((f) => ({ path: f.path, kind: f.kind }))).toEqual([{ path: '', kind: 'changed' }])
    const sample = get.fields[0]!.samples[0] as { legacy: { body: object } }
    expect(sample.legacy.body).toMatchObject({ sha256: expect.any(String) })
  }, 60_000)
})

describe('grpc.protos and grpc.reflection together', () => {
  it('are a coded config error at the line of reflection', async () => {
    const dir = temporaryDir('tandem-grpc-both-')
    const file = join(dir, 'tandem.yaml')
    writeFileSync(
      file,
      `version: 1
systems:
  - name: orders
    protocol: grpc
    grpc:
      protos: [orders.proto]
      reflection: true
    legacy: { url: http://127.0.0.1:9101 }
    candidate: { url: http://127.0.0.1:9102 }
    routes: [{ path: /orders.v1.Orders/* }]
`,
    )
    const out = await cli(['validate', '-c', file])
    expect(out.code).toBe(2)
    expect(out.stderr).toContain(`${file}:7:19 systems[0].grpc.reflection: give either`)
    expect(out.stderr).toContain('[TANDEM_ERR_CONFIG_TYPE]')
  })
})
