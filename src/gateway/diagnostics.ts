// The gateway's lifecycle events on node:diagnostics_channel, the way undici publishes its own
// (lib/core/diagnostics.js): the request path publishes only when someone listens and never knows who.
// Metrics and the shadow counters subscribe (src/metrics/gateway-subscriber.ts).
import diagnostics from 'node:diagnostics_channel'
import type { Arm } from '../domain/stages.js'

/** Outcomes of a request that could have been mirrored: mirrored, a skip reason, or how the mirror failed. */
export type ShadowResult =
  | 'mirrored'
  | 'unsafe-method'
  | 'body-too-large'
  | 'sampled-out'
  | 'queue-full'
  | 'timeout'
  | 'error'
  | 'websocket'
  | 'streaming'

/** Every message names the Gateway that published it: one process may run several (tests, workers). */
interface FromGateway {
  readonly gateway: object
}

/** A plan was applied: the routes it serves, in config order (metrics keep a series for each). */
export interface PlanMessage extends FromGateway {
  readonly routes: ReadonlyArray<{ readonly system: string; readonly route: string }>
}

/** An upstream call finished: the served one (`request`) or the copy sent to the other arm (`mirror`). */
export interface CallMessage extends FromGateway {
  readonly system: string
  /** The matched route template. */
  readonly route: string
  readonly arm: Arm
  /** HTTP status, 0 when the call failed without a response. */
  readonly status: number
  readonly durationMs: number
  readonly at: number
}

/** The shadow outcome of one request (`tandem_shadow_total`). */
export interface ShadowMessage extends FromGateway {
  readonly system: string
  readonly result: ShadowResult
}

export const channels = Object.freeze({
  plan: diagnostics.channel('tandem:gateway:plan'),
  request: diagnostics.channel('tandem:gateway:request'),
  mirror: diagnostics.channel('tandem:gateway:mirror'),
  shadow: diagnostics.channel('tandem:gateway:shadow'),
})

/** Publish a call's end on `channel` (request or mirror); no message is built when nobody listens. */
export function publishCall(
  channel: diagnostics.Channel,
  gateway: object,
  system: string,
  route: string,
  arm: Arm,
  status: number,
  durationMs: number,
): void {
  if (!channel.hasSubscribers) return
  channel.publish({ gateway, system, route, arm, status, durationMs, at: Date.now() } satisfies CallMessage)
}

export function publishShadow(gateway: object, system: string, result: ShadowResult): void {
  if (channels.shadow.hasSubscribers) channels.shadow.publish({ gateway, system, result } satisfies ShadowMessage)
}
