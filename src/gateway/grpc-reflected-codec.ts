// `grpc: { reflection: true }`: the message types of a gRPC system asked of its legacy target by server
// reflection (grpc-reflection.ts). Loaded in the background: a failed load is retried with backoff, and a
// call to a method not known yet asks legacy again for its service (a deploy may have added it).
import { TandemError } from '../errors.js'
import { methodsOf, type GrpcCodec, type GrpcMethod } from './grpc-codec.js'
import { ReflectionClient, rootOf, type FileDescriptor } from './grpc-reflection.js'
import type { Upstream } from './upstream-call.js'

/** Where the gateway logs (pino's Logger is one). */
export interface GatewayLog {
  info(fields: object, message: string): void
  error(fields: object, message: string): void
}

/** First retry after a failed load, doubled each time up to the cap. */
const RETRY_FIRST_MS = 1_000
const RETRY_CAP_MS = 60_000
/** A service not known is asked of legacy again at most this often. */
const REASK_MS = 10_000
/** Services remembered as asked; past this the memory starts over (a client may send any path). */
const REASKED_MAX = 1_000

export class ReflectedCodec implements GrpcCodec {
  readonly #system: string
  readonly #client: ReflectionClient
  readonly #log: GatewayLog
  #methods = new Map<string, GrpcMethod>()
  readonly #files = new Map<string, FileDescriptor>()
  #loading: Promise<void> | null = null
  /** Set once the first load settled (`started` resolves then). */
  #loaded: 'no' | 'yes' | 'failed' = 'no'
  #failures = 0
  #retry: NodeJS.Timeout | null = null
  #closed = false
  #started: Promise<void> | null = null
  /** When each service was last asked of legacy because a call named a method of it not known. */
  readonly #asked = new Map<string, number>()

  /** `timeoutMs` bounds each reflection stream. Nothing is asked before start(). */
  constructor(system: string, legacy: Upstream, timeoutMs: number, log: GatewayLog) {
    this.#system = system
    this.#client = new ReflectionClient(legacy, timeoutMs)
    this.#log = log
  }

  /** Start loading; resolves when the first attempt settled (never rejects: a failure is logged and retried). */
  start(): Promise<void> {
    this.#started ??= this.#load()
    return this.#started
  }

  /** Stop retrying and asking (the plan was replaced or the gateway closes); known types stay. */
  close(): void {
    this.#closed = true
    if (this.#retry !== null) clearTimeout(this.#retry)
    this.#retry = null
  }

  method(path: string): GrpcMethod | undefined {
    const known = this.#methods.get(path)
    if (known === undefined) this.#reask(path)
    return known
  }

  pending(): Promise<void> | null {
    return this.#loading
  }

  /** Every service legacy lists, their files and imports; then the methods swap in at once. */
  #load(): Promise<void> {
    const load = (async () => {
      try {
        const services = await this.#client.services()
        const files = new Map<string, FileDescriptor>()
        const unknown = await this.#client.filesOf(services, files)
        if (unknown.length > 0) throw new Error(`no file defines the listed service(s) ${unknown.join(', ')}`)
        this.#use(files)
        this.#failures = 0
        if (this.#loaded !== 'yes') {
          const methods = this.#methods.size
          this.#log.info({ system: this.#system, methods }, 'gRPC message types read from legacy by server reflection')
        }
        this.#loaded = 'yes'
      } catch (error) {
        this.#failed(error as Error)
      } finally {
        this.#loading = null
      }
    })()
    this.#loading = load
    return load
  }

  #use(files: Map<string, FileDescriptor>): void {
    const methods = methodsOf(rootOf(files))
    this.#files.clear()
    for (const [name, file] of files) this.#files.set(name, file)
    this.#methods = methods
  }

  #failed(error: Error): void {
    if (this.#loaded !== 'failed') {
      const coded = new TandemError('TANDEM_ERR_GRPC_REFLECTION', { system: this.#system, detail: error.message })
      this.#log.error({ system: this.#system, code: coded.code }, coded.message)
    }
    this.#loaded = 'failed'
    if (this.#closed) return
    const delay = Math.min(RETRY_CAP_MS, RETRY_FIRST_MS * 2 ** this.#failures++)
    this.#retry = setTimeout(() => {
      this.#retry = null
      if (!this.#closed) void this.#load()
    }, delay)
    this.#retry.unref()
  }

  /** A call to a method not known: ask legacy for its service, when nothing else is being asked. */
  #reask(path: string): void {
    if (this.#closed || this.#loading !== null || this.#loaded !== 'yes') return
    const service = /^\/([^/]+)\/[^/]+$/.exec(path)?.[1]
    if (service === undefined) return
    const now = Date.now()
    if (now - (this.#asked.get(service) ?? -Infinity) < REASK_MS) return
    if (this.#asked.size >= REASKED_MAX) this.#asked.clear()
    this.#asked.set(service, now)
    const load = (async () => {
      try {
        const files = new Map(this.#files)
        const unknown = await this.#client.filesOf([service], files)
        if (unknown.length === 0) this.#use(files)
      } catch {
        // Legacy does not know the service, or did not answer: its calls are compared by bytes.
      } finally {
        this.#loading = null
      }
    })()
    this.#loading = load
  }
}
