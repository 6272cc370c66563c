// gRPC helpers: grpc-timeout parsing, and the exchange conversion that puts grpc-status in the status and
// proto3 JSON in the body, falling back to bytes without types or when a message does not decode.
import { describe, expect, it } from 'vitest'
import type { CapturedResponse, ComparisonSink, Exchange } from '../compare/sink.js'
import { PROTO } from '../../examples/grpc/services.js'
import { loadGrpcCodec } from './grpc-codec.js'
import { GrpcExchangeSink, parseGrpcTimeout } from './grpc.js'

function frame(message: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head.writeUInt32BE(message.length, 1)
  return Buffer.concat([head, message])
}

function response(body: Buffer, grpcStatus: string): CapturedResponse {
  const headers = { 'content-type': 'application/grpc', 'grpc-status': grpcStatus }
  return { ok: true, status: 200, headers, body, truncated: false, durationMs: 1 }
}

type Codec = ReturnType<typeof loadGrpcCodec>

function convert(codec: Codec, legacy: CapturedResponse, candidate: CapturedResponse): Exchange {
  const seen: Exchange[] = []
  const sink: ComparisonSink = { submit: (e) => void seen.push(e) }
  const request = { method: 'POST', url: '/orders.v1.Orders/GetOrder', headers: {}, body: null }
  new GrpcExchangeSink(sink, { codec, errorCodes: new Set() }).submit({
    system: 's',
    route: '/orders.v1.Orders/*',
    at: 0,
    primary: 'legacy',
    request,
    legacy,
    candidate,
  })
  return seen[0]!
}

describe('gRPC helpers', () => {
  it('parses grpc-timeout units and refuses malformed values', () => {
    expect(parseGrpcTimeout('100m')).toBe(100)
    expect(parseGrpcTimeout('2S')).toBe(2000)
    expect(parseGrpcTimeout('1M')).toBe(60_000)
    expect(parseGrpcTimeout('1H')).toBe(3_600_000)
    expect(parseGrpcTimeout('500u')).toBe(1)
    expect(parseGrpcTimeout('5')).toBeNull()
    expect(parseGrpcTimeout('123456789S')).toBeNull()
    expect(parseGrpcTimeout(undefined)).toBeNull()
  })

  it('decodes responses to proto3 JSON with grpc-status as the status', () => {
    const codec = loadGrpcCodec('s', [PROTO], [])!
    const type = codec.method('/orders.v1.Orders/GetOrder')!.responseType
    const order = (price: number) => {
      const message = type.fromObject({ id: '1', items: [{ sku: 'a', price }] })
      return frame(Buffer.from(type.encode(message).finish()))
    }
    const ex = convert(codec, response(order(1), '0'), response(Buffer.alloc(0), '5'))
    expect(ex.legacy).toMatchObject({ status: 0, headers: { 'content-type': 'application/json' } })
    const legacyJson = JSON.parse((ex.legacy as CapturedResponse).body.toString())
    expect(legacyJson).toEqual({ id: '1', items: [{ sku: 'a', price: 1 }] })
    expect(ex.candidate).toMatchObject({ status: 5 })
    expect((ex.candidate as CapturedResponse).body.toString()).toBe('null')
  })

  it('compares by bytes without types, or when a message does not decode', () => {
    const garbage = frame(Buffer.from([0xff, 0xff, 0xff]))
    const untyped = convert(null, response(garbage, '0'), response(garbage, '0'))
    const asBytes = { headers: { 'content-type': 'application/grpc' }, body: garbage }
    expect(untyped.legacy).toMatchObject({ status: 0, ...asBytes })
    const codec = loadGrpcCodec('s', [PROTO], [])!
    const broken = convert(codec, response(garbage, '0'), response(Buffer.from([1, 2]), '0'))
    expect(broken.legacy).toMatchObject(asBytes)
    expect(broken.candidate).toMatchObject({ headers: { 'content-type': 'application/grpc' } })
  })

  it('a .proto that is missing is a coded error', () => {
    const missing = () => loadGrpcCodec('s', ['/nonexistent/x.proto'], [])
    expect(missing).toThrow(expect.objectContaining({ code: 'TANDEM_ERR_GRPC_PROTO' }))
  })
})
