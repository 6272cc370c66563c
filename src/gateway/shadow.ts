// Shadow mirroring (SPEC 3): the arm not serving a request gets a copy (body buffered up to
// maxBodyBytes, tagged x-tandem-shadow: 1) through a bounded queue with its own timeout; when both arms
// are done the exchange goes to the comparison sink. The client never waits for any of this.
import type { IncomingMessage } from 'node:http'
import type { ArmResult, CapturedRequest, CapturedResponse, ComparisonSink } from '../compare/sink.js'
import type { Arm } from '../domain/stages.js'
import { channels, publishCall, publishShadow, type ShadowResult } from './diagnostics.js'
import { forwardAndCapture, type CaptureReceiver, type ForwardOutcome } from './forward.js'
import { upstreamRequestHeaders, type ForwardFacts } from './headers.js'
import type { RoutePlan } from './plan.js'
import { isTimeout } from './upstream-error.js'
import type { Upstream } from './upstreams.js'

export interface ShadowDeps {
  readonly sink: ComparisonSink
  /** The Gateway whose events these are (see diagnostics.ts). */
  readonly gateway: object
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

function other(arm: Arm): Arm {
  return arm === 'legacy' ? 'candidate' : 'legacy'
}

/** Tags of the mirror calls of one run (see CaptureReceiver). */
const MIRROR = 0
const SECONDARY = 1

/**
 * Start mirroring `req` if it is eligible; the skip reason is counted otherwise. Must run before the
 * primary call starts reading the body, so the copy sees every chunk; call `primaryStarted()` once the
 * primary call is dispatched.
 */
export function beginShadow(
  deps: ShadowDeps,
  route: RoutePlan,
  primary: Arm,
  req: IncomingMessage,
  facts: ForwardFacts,
  withBody: boolean,
): ShadowRun | null {
  const system = route.system
  const policy = system.shadow
  const method = req.method!
  if (!policy.unsafeMethods && !SAFE.has(method)) {
    publishShadow(deps.gateway, system.name, 'unsafe-method')
    return null
  }
  if (policy.sample < 1 && Math.random() >= policy.sample) {
    publishShadow(deps.gateway, system.name, 'sampled-out')
    return null
  }
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > policy.maxBodyBytes) {
    publishShadow(deps.gateway, system.name, 'body-too-large')
    return null
  }
  return new ShadowRun(deps, route, primary, req, facts, withBody)
}

export class ShadowRun implements CaptureReceiver {
  /** Cap of the primary response copy. */
  readonly captureCap: number
  readonly #deps: ShadowDeps
  readonly #route: RoutePlan
  readonly #primary: Arm
  readonly #req: IncomingMessage
  readonly #facts: ForwardFacts
  #chunks: Buffer[] | null = []
  #bodyBytes = 0
  #body: Buffer | null = null
  #bodyDone = false
  #cancelled = false
  #dispatched = false
  #pending = 1
  #primaryResult: ArmResult | null = null
  #mirrorResult: ArmResult | null = null
  #secondaryResult: ArmResult | undefined

  constructor(
    deps: ShadowDeps,
    route: RoutePlan,
    primary: Arm,
    req: IncomingMessage,
    facts: ForwardFacts,
    withBody: boolean,
    /** Where the body is read from: `req`, or the HTTP/2 stream under it (the gRPC path reads that). */
    source: NodeJS.ReadableStream = req,
  ) {
    this.#deps = deps
    this.#route = route
    this.#primary = primary
    this.#req = req
    this.#facts = facts
    this.captureCap = route.system.shadow.maxBodyBytes
    if (!withBody) {
      this.#bodyDone = true
      this.#chunks = null
      return
    }
    // Paused so that our listener does not start the flow; the primary call resumes the stream when it
    // sends the body, and both listeners then see every chunk under the same backpressure.
    source.pause()
    source.on('data', (chunk: Buffer) => this.#onBody(chunk))
    source.once('end', () => {
      this.#bodyDone = true
      this.#dispatch()
    })
    source.once('close', () => {
      if (!this.#bodyDone) this.#cancel('error')
    })
  }

  /** The primary call is on its way: a request without a body can be mirrored now. */
  primaryStarted(): void {
    if (this.#bodyDone && !this.#dispatched) this.#dispatch()
  }

  #onBody(chunk: Buffer): void {
    if (this.#chunks === null) return
    this.#bodyBytes += chunk.length
    if (this.#bodyBytes > this.#route.system.shadow.maxBodyBytes) {
      this.#chunks = null
      this.#cancel('body-too-large')
      return
    }
    this.#chunks.push(chunk)
  }

  #cancel(reason: ShadowResult): void {
    if (this.#cancelled || this.#dispatched) return
    this.#cancelled = true
    this.#chunks = null
    publishShadow(this.#deps.gateway, this.#route.system.name, reason)
  }

  /** The primary call finished (streamed to the client, with a capped copy when it succeeded). */
  primaryDone(outcome: ForwardOutcome): void {
    this.#primaryResult = outcome.capture ?? {
      ok: false,
      reason: outcome.error !== null && isTimeout(outcome.error) ? 'timeout' : 'error',
      message: outcome.error?.message ?? 'no response',
      durationMs: outcome.durationMs,
    }
    // A primary that failed before the body was read leaves nothing to mirror.
    if (!this.#bodyDone) this.#cancel('error')
    this.#settle()
  }

  #dispatch(): void {
    if (this.#cancelled || this.#dispatched) return
    const system = this.#route.system
    if (this.#chunks !== null)
      this.#body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#bodyBytes)
    this.#chunks = null
    if (!system.queue.tryAcquire()) {
      this.#cancel('queue-full')
      return
    }
    this.#dispatched = true
    this.#pending++
    const secondary =
      system.secondary !== null &&
      (system.shadow.secondarySample >= 1 || Math.random() < system.shadow.secondarySample) &&
      system.queue.tryAcquire()
    if (secondary) this.#pending++
    // Sent once this turn of the event loop is over: the primary calls of the requests read in the same
    // turn go out first, and the clients' answers do not wait behind the copies.
    setImmediate(() => {
      this.#call(system.mirror[other(this.#primary)], MIRROR)
      if (secondary) this.#call(system.secondary!, SECONDARY)
    })
  }

  #call(upstream: Upstream, tag: number): void {
    const system = this.#route.system
    const req = this.#req
    forwardAndCapture(
      {
        upstream,
        method: req.method!,
        path: upstream.basePath + req.url!,
        headers: upstreamRequestHeaders(this.#facts, upstream.headers, true),
        body: this.#body,
        timeoutMs: system.shadow.timeoutMs,
      },
      system.shadow.maxBodyBytes,
      this,
      tag,
    )
  }

  /** A mirror call finished (CaptureReceiver). */
  captured(result: CapturedResponse | Error, durationMs: number, tag: number): void {
    const system = this.#route.system
    system.queue.release()
    const armResult: ArmResult =
      result instanceof Error
        ? { ok: false, reason: isTimeout(result) ? 'timeout' : 'error', message: result.message, durationMs }
        : result
    if (tag === MIRROR) {
      // The arm's own behaviour under mirrored traffic feeds its metrics too (errors, latency).
      const status = armResult.ok ? armResult.status : 0
      const arm = other(this.#primary)
      publishCall(channels.mirror, this.#deps.gateway, system.name, this.#route.template, arm, status, durationMs)
      this.#mirrorResult = armResult
      const result = armResult.ok ? 'mirrored' : armResult.reason === 'timeout' ? 'timeout' : 'error'
      publishShadow(this.#deps.gateway, system.name, result)
    } else {
      this.#secondaryResult = armResult
    }
    this.#settle()
  }

  #settle(): void {
    if (--this.#pending > 0 || !this.#dispatched) return
    const req = this.#req
    const request: CapturedRequest = { method: req.method!, url: req.url!, headers: req.headers, body: this.#body }
    const primary = this.#primaryResult!
    const mirror = this.#mirrorResult!
    this.#deps.sink.submit({
      system: this.#route.system.name,
      route: this.#route.template,
      at: Date.now(),
      primary: this.#primary,
      request,
      legacy: this.#primary === 'legacy' ? primary : mirror,
      candidate: this.#primary === 'candidate' ? primary : mirror,
      ...(this.#secondaryResult === undefined ? {} : { secondary: this.#secondaryResult }),
    })
  }
}
