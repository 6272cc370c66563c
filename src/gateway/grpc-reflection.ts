// The gRPC Server Reflection protocol (grpc.reflection.v1, v1alpha when v1 is UNIMPLEMENTED) spoken to a
// target over the gateway's HTTP/2 sessions, so https:// targets with `tls` work as calls do: the
// services it serves and the FileDescriptorProtos of their files, with every file they import.
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2'
import protobuf from 'protobufjs'
import descriptor from 'protobufjs/ext/descriptor.js'
import { splitMessages } from './grpc-codec.js'
import type { Upstream } from './upstream-call.js'

/** The messages of grpc/reflection/v1/reflection.proto this client uses (v1alpha has the same wire format). */
const PROTOCOL = protobuf.Root.fromJSON({
  nested: {
    ServerReflectionRequest: {
      oneofs: { request: { oneof: ['fileByFilename', 'fileContainingSymbol', 'listServices'] } },
      fields: {
        host: { type: 'string', id: 1 },
        fileByFilename: { type: 'string', id: 3 },
        fileContainingSymbol: { type: 'string', id: 4 },
        listServices: { type: 'string', id: 7 },
      },
    },
    ServerReflectionResponse: {
      fields: {
        fileDescriptorResponse: { type: 'FileDescriptorResponse', id: 4 },
        listServicesResponse: { type: 'ListServiceResponse', id: 6 },
        errorResponse: { type: 'ErrorResponse', id: 7 },
      },
    },
    FileDescriptorResponse: { fields: { fileDescriptorProto: { rule: 'repeated', type: 'bytes', id: 1 } } },
    ListServiceResponse: { fields: { service: { rule: 'repeated', type: 'ServiceResponse', id: 1 } } },
    ServiceResponse: { fields: { name: { type: 'string', id: 1 } } },
    ErrorResponse: { fields: { errorCode: { type: 'int32', id: 1 }, errorMessage: { type: 'string', id: 2 } } },
  },
})
const Request = PROTOCOL.lookupType('ServerReflectionRequest')
const Response = PROTOCOL.lookupType('ServerReflectionResponse')

export type ReflectionRequest = { fileByFilename: string } | { fileContainingSymbol: string } | { listServices: '*' }

export interface ReflectionResponse {
  readonly fileDescriptorResponse?: { readonly fileDescriptorProto: readonly Uint8Array[] }
  readonly listServicesResponse?: { readonly service: ReadonlyArray<{ readonly name: string }> }
  readonly errorResponse?: { readonly errorCode: number; readonly errorMessage: string }
}

const SERVICES = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'] as const
const UNIMPLEMENTED = 12

/** A file of the target's, as served: its bytes decoded, its imports named. */
export type FileDescriptor = descriptor.IFileDescriptorProto & { readonly name: string }

/** One reflection stream: send the requests, half-close, and read one response for each. */
function exchange(
  target: Upstream,
  service: string,
  requests: readonly ReflectionRequest[],
  timeoutMs: number,
): Promise<ReflectionResponse[]> {
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': `${target.basePath}/${service}/ServerReflectionInfo`,
      ':authority': target.headers.host ?? target.url.host,
      'content-type': 'application/grpc',
      te: 'trailers',
    }
    // The target's configured headers (credentials, tenant) go with reflection as with calls.
    const extra = target.headers.extra
    for (let i = 0; i < extra.length; i += 2) headers[extra[i]!.toLowerCase()] = extra[i + 1]!
    const fail = (error: Error) => {
      clearTimeout(timer)
      reject(error)
    }
    const timer = setTimeout(() => {
      stream?.close(constants.NGHTTP2_CANCEL)
      fail(new Error(`no answer within ${timeoutMs}ms`))
    }, timeoutMs)
    timer.unref()
    let stream: ClientHttp2Stream | undefined
    try {
      stream = target.h2!.get(target).request(headers)
    } catch (error) {
      return fail(error as Error)
    }
    const frames = requests.map((r) => {
      const message = Request.encode(Request.fromObject(r)).finish()
      const head = Buffer.alloc(5)
      head.writeUInt32BE(message.length, 1)
      return Buffer.concat([head, message])
    })
    stream.end(Buffer.concat(frames))
    let response: IncomingHttpHeaders = {}
    let trailers: IncomingHttpHeaders = {}
    const chunks: Buffer[] = []
    stream.on('response', (h) => (response = h))
    stream.on('trailers', (t) => (trailers = t))
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('error', fail)
    stream.on('close', () => fail(new Error(`the stream closed early (HTTP/2 code ${stream!.rstCode})`)))
    stream.on('end', () => {
      clearTimeout(timer)
      const type = String(response['content-type'] ?? '')
      if (Number(response[':status']) !== 200 || !type.startsWith('application/grpc')) {
        return reject(new Error(`the target answered HTTP ${response[':status']} (${type || 'no content-type'})`))
      }
      const status = Number(trailers['grpc-status'] ?? response['grpc-status'] ?? 2)
      if (status !== 0) {
        const message = decodeURIComponent(String(trailers['grpc-message'] ?? response['grpc-message'] ?? ''))
        return reject(Object.assign(new Error(`grpc-status ${status} ${message}`.trim()), { grpcStatus: status }))
      }
      const messages = splitMessages(Buffer.concat(chunks), String(response['grpc-encoding'] ?? 'identity'))
      if (messages === null) return reject(new Error('the reflection response is not length-prefixed gRPC'))
      try {
        const objects = messages.map((m) => Response.toObject(Response.decode(m), { defaults: false }))
        resolve(objects as ReflectionResponse[])
      } catch (error) {
        reject(new Error(`the reflection response does not decode: ${(error as Error).message}`))
      }
    })
  })
}

/** A client of one target's reflection service: v1, or v1alpha once v1 answered UNIMPLEMENTED. */
export class ReflectionClient {
  readonly #target: Upstream
  readonly #timeoutMs: number
  #version = 0

  constructor(target: Upstream, timeoutMs: number) {
    this.#target = target
    this.#timeoutMs = timeoutMs
  }

  async ask(requests: readonly ReflectionRequest[]): Promise<ReflectionResponse[]> {
    for (;;) {
      try {
        const responses = await exchange(this.#target, SERVICES[this.#version]!, requests, this.#timeoutMs)
        if (responses.length !== requests.length) {
          throw new Error(`${requests.length} reflection requests got ${responses.length} responses`)
        }
        return responses
      } catch (error) {
        if ((error as { grpcStatus?: number }).grpcStatus !== UNIMPLEMENTED) throw error
        if (this.#version === SERVICES.length - 1) {
          const message = 'the target does not serve gRPC server reflection (UNIMPLEMENTED)'
          throw new Error(message, { cause: error })
        }
        this.#version++
      }
    }
  }

  /** The full names of the services the target serves, reflection itself left out. */
  async services(): Promise<string[]> {
    const [response] = await this.ask([{ listServices: '*' }])
    if (response?.listServicesResponse === undefined) throw new Error(answerError(response, 'list_services'))
    return response.listServicesResponse.service.map((s) => s.name).filter((n) => !n.startsWith('grpc.reflection.'))
  }

  /**
   * Add to `files` the files that define `symbols` (replacing what was known of them: a deploy may have
   * changed them) and every file they import that `files` lacks. Symbols the target does not know are
   * returned; a missing import is an error.
   */
  async filesOf(symbols: readonly string[], files: Map<string, FileDescriptor>): Promise<string[]> {
    const unknown: string[] = []
    const responses = await this.ask(symbols.map((s) => ({ fileContainingSymbol: s })))
    responses.forEach((r, i) => {
      if (r.fileDescriptorResponse === undefined) unknown.push(symbols[i]!)
      else addFiles(r.fileDescriptorResponse.fileDescriptorProto, files)
    })
    for (let round = 0; round < 16; round++) {
      const missing = [...new Set([...files.values()].flatMap(importsOf))].filter((name) => !files.has(name))
      if (missing.length === 0) return unknown
      const answers = await this.ask(missing.map((name) => ({ fileByFilename: name })))
      answers.forEach((r, i) => {
        if (r.fileDescriptorResponse === undefined) throw new Error(answerError(r, `file ${missing[i]}`))
        addFiles(r.fileDescriptorResponse.fileDescriptorProto, files)
      })
    }
    throw new Error('the imports of the reflected files do not end')
  }
}

function importsOf(file: FileDescriptor): string[] {
  return (file.dependency as string[] | undefined) ?? []
}

function addFiles(protos: readonly Uint8Array[], files: Map<string, FileDescriptor>): void {
  for (const bytes of protos) {
    const file = descriptor.FileDescriptorProto.decode(bytes) as unknown as FileDescriptor
    files.set(file.name, file)
  }
}

function answerError(response: ReflectionResponse | undefined, asked: string): string {
  const e = response?.errorResponse
  return e === undefined ? `no answer to ${asked}` : `${asked}: error ${e.errorCode} ${e.errorMessage ?? ''}`.trim()
}

/** A protobufjs Root of reflected files (proto3 JSON names, as `grpc.protos` are loaded). */
export function rootOf(files: ReadonlyMap<string, FileDescriptor>): protobuf.Root {
  return protobuf.Root.fromDescriptor({ file: [...files.values()] })
}
