// gRPC message types from `grpc.protos` (protobufjs) or asked of legacy by server reflection
// (grpc-reflected-codec.ts): which methods stream, and the decoding of length-prefixed messages into
// proto3 JSON, so that mirrored calls are compared field by field.
import { gunzipSync } from 'node:zlib'
import protobuf from 'protobufjs'
import { existsSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { TandemError } from '../errors.js'

export interface GrpcMethod {
  readonly path: string
  readonly requestStream: boolean
  readonly responseStream: boolean
  readonly responseType: protobuf.Type
}

export interface GrpcCodec {
  method(path: string): GrpcMethod | undefined
  /**
   * While types are being loaded (server reflection): settles when that load ends, loaded or not; null
   * when nothing is loading. A path `method` does not know may start such a load.
   */
  pending?(): Promise<void> | null
}

export interface GrpcPlan {
  readonly codec: GrpcCodec | null
  /** grpc-status values that count as errors in metrics. */
  readonly errorCodes: ReadonlySet<number>
}

/** Load the .proto files of a system; a file that is missing or does not parse is a coded error. */
export function loadGrpcCodec(
  system: string,
  protos: readonly string[],
  includeDirs: readonly string[],
): GrpcCodec | null {
  if (protos.length === 0) return null
  const root = new protobuf.Root()
  root.resolvePath = (origin, target) => {
    if (isAbsolute(target)) return target
    const beside = origin === '' ? resolve(target) : resolve(origin, '..', target)
    if (existsSync(beside)) return beside
    for (const dir of includeDirs) {
      const candidate = resolve(join(dir, target))
      if (existsSync(candidate)) return candidate
    }
    return beside
  }
  try {
    root.loadSync([...protos], { keepCase: false })
    root.resolveAll()
  } catch (error) {
    throw new TandemError('TANDEM_ERR_GRPC_PROTO', { system, detail: (error as Error).message }, { cause: error })
  }
  const methods = methodsOf(root)
  return { method: (path) => methods.get(path) }
}

/** Every method of the services in `root`, by call path (`/package.Service/Method`). */
export function methodsOf(root: protobuf.Root): Map<string, GrpcMethod> {
  const methods = new Map<string, GrpcMethod>()
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Service) {
        for (const m of nested.methodsArray) {
          const path = `/${nested.fullName.slice(1)}/${m.name}`
          const requestStream = m.requestStream === true
          const responseStream = m.responseStream === true
          methods.set(path, { path, requestStream, responseStream, responseType: m.resolvedResponseType! })
        }
      } else if (nested instanceof protobuf.Namespace) visit(nested)
    }
  }
  visit(root)
  return methods
}

/** The grpc-status of a response (trailers, or the headers of a trailers-only response); UNKNOWN (2) without one. */
export function grpcStatusOf(headers: Readonly<Record<string, string | string[] | number | undefined>> | null): number {
  const value = headers?.['grpc-status']
  const n = Number(Array.isArray(value) ? value[0] : value)
  return value === undefined || !Number.isInteger(n) ? 2 : n
}

/** Length-prefixed gRPC messages (uncompressed), as a request body. */
export function frameMessages(messages: readonly Uint8Array[]): Buffer {
  return Buffer.concat(
    messages.flatMap((m) => {
      const head = Buffer.alloc(5)
      head.writeUInt32BE(m.length, 1)
      return [head, m]
    }),
  )
}

/** The messages of a gRPC body (5-byte prefix: compressed flag, length); null when the framing is broken. */
export function splitMessages(body: Buffer, encoding: string | undefined): Buffer[] | null {
  const out: Buffer[] = []
  for (let at = 0; at < body.length;) {
    if (at + 5 > body.length) return null
    const compressed = body[at] === 1
    const length = body.readUInt32BE(at + 1)
    if (at + 5 + length > body.length) return null
    let message = body.subarray(at + 5, at + 5 + length)
    if (compressed) {
      if (encoding !== 'gzip') return null
      message = gunzipSync(message)
    }
    out.push(message)
    at += 5 + length
  }
  return out
}

/**
 * proto3 JSON of the response messages: one object for a unary call (null without a message), an array
 * for a server stream; null when they do not decode (then the bytes are compared).
 */
export function decodeResponse(
  method: GrpcMethod,
  body: Buffer,
  encoding: string | undefined,
): { value: unknown } | null {
  const messages = splitMessages(body, encoding)
  if (messages === null) return null
  try {
    const type = method.responseType
    const json = { longs: String, enums: String, bytes: String, json: true }
    const objects = messages.map((m) => type.toObject(type.decode(m), json))
    return { value: method.responseStream ? objects : (objects[0] ?? null) }
  } catch {
    return null
  }
}
