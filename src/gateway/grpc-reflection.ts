// The gRPC Server Reflection protocol (grpc.reflection.v1, v1alpha when v1 is UNIMPLEMENTED) spoken to a
// target over the gateway's HTTP/2 sessions, so https:// targets with `tls` work as calls do: the
// services it serves and the FileDescriptorProtos of their files, with every file they import.
import protobuf from 'protobufjs'
import descriptor from 'protobufjs/ext/descriptor.js'
import type { CapturedResponse } from '../compare/sink.js'
import { frameMessages, grpcStatusOf, splitMessages } from './grpc-codec.js'
import { captureH2 } from './h2-upstream.js'
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

/** The largest reflection answer read (a whole service's files and their imports). */
const ANSWER_CAP = 64 * 1024 * 1024

/** One reflection stream: send the requests, half-close, and read one response for each. */
function exchange(
  target: Upstream,
  service: string,
  requests: readonly ReflectionRequest[],
  timeoutMs: number,
): Promise<ReflectionResponse[]> {
  // The target's configured headers (credentials, tenant) go with reflection as with calls.
  const headers = ['host', target.headers.host ?? target.url.host, 'content-type', 'application/grpc']
  headers.push(...target.headers.extra)
  const request = {
    upstream: target,
    method: 'POST',
    path: `${target.basePath}/${service}/ServerReflectionInfo`,
    headers,
    body: frameMessages(requests.map((r) => Request.encode(Request.fromObject(r)).finish())),
    timeoutMs,
  }
  return new Promise((resolve, reject) => {
    const receiver = {
      captured(result: CapturedResponse | Error) {
        try {
          resolve(readAnswer(result))
        } catch (error) {
          reject(error as Error)
        }
      },
    }
    captureH2(request, ANSWER_CAP, receiver, 0)
  })
}

/** The reflection responses of a captured answer (headers and trailers merged); a failed one throws. */
function readAnswer(result: CapturedResponse | Error): ReflectionResponse[] {
  if (result instanceof Error) throw result
  const type = String(result.headers['content-type'] ?? '')
  if (!type.startsWith('application/grpc')) {
    throw new Error(`the target answered HTTP ${result.status} (${type || 'no content-type'})`)
  }
  const status = grpcStatusOf(result.headers)
  if (status !== 0) {
    const message = decodeURIComponent(String(result.headers['grpc-message'] ?? ''))
    throw Object.assign(new Error(`grpc-status ${status} ${message}`.trim()), { grpcStatus: status })
  }
  if (result.truncated) throw new Error(`the reflection answer is larger than ${ANSWER_CAP} bytes`)
  const encoding = result.headers['grpc-encoding']
  const messages = splitMessages(result.body, typeof encoding === 'string' ? encoding : 'identity')
  if (messages === null) throw new Error('the reflection response is not length-prefixed gRPC')
  try {
    return messages.map((m) => Response.toObject(Response.decode(m), { defaults: false })) as ReflectionResponse[]
  } catch (error) {
    throw new Error(`the reflection response does not decode: ${(error as Error).message}`, { cause: error })
  }
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
