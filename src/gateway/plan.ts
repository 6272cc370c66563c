// The gateway plan: everything the request path needs, compiled once from a Config (route matcher,
// arm policies, upstream pools, shadow settings). A reload builds a new plan and swaps it.
import type { Pool } from 'undici'
import { GRPC_STATUS_NAMES, type Config, type SystemConfig } from '../config/schema.js'
import type { Arm } from '../domain/stages.js'
import { compileTargeting, parseStickiness, type ArmPolicy } from './assign-arm.js'
import { loadGrpcCodec, type GrpcPlan } from './grpc-codec.js'
import { ReflectedCodec, type GatewayLog } from './grpc-reflected-codec.js'
import { RouteMatcher } from './route-matcher.js'
import type { PoolRegistry, Upstream } from './upstreams.js'

export interface ShadowPolicy {
  readonly sample: number
  readonly secondarySample: number
  readonly unsafeMethods: boolean
  readonly maxBodyBytes: number
  readonly timeoutMs: number
}

/** The bounded mirror queue of one system: mirror calls in flight, at most `max`. */
export class MirrorQueue {
  max: number
  inFlight = 0

  constructor(max: number) {
    this.max = max
  }

  tryAcquire(): boolean {
    if (this.inFlight >= this.max) return false
    this.inFlight++
    return true
  }

  release(): void {
    this.inFlight--
  }
}

export interface SystemPlan {
  readonly name: string
  readonly policy: ArmPolicy
  readonly shadow: ShadowPolicy
  readonly queue: MirrorQueue
  readonly serve: Readonly<Record<Arm, Upstream>>
  readonly mirror: Readonly<Record<Arm, Upstream>>
  readonly secondary: Upstream | null
  readonly fallbackToLegacy: boolean
  /** `protocol: grpc`: message types and the statuses that are errors; null for HTTP systems. */
  readonly grpc: GrpcPlan | null
}

export interface RoutePlan {
  readonly system: SystemPlan
  /** The matched template: the key of metrics and diffs. */
  readonly template: string
}

export interface GatewayPlan {
  readonly matcher: RouteMatcher<RoutePlan>
  readonly fallback: Upstream | null
  readonly upstreamTimeoutMs: number
  readonly systems: readonly string[]
  /** Every pool the plan uses; the registry closes the others after a swap. */
  readonly pools: ReadonlySet<Pool>
  /** Every route, in config order (published on `tandem:gateway:plan`). */
  readonly routes: ReadonlyArray<{ readonly system: string; readonly route: string }>
  /** `grpc.reflection` systems' types, not asked yet: the gateway starts them once the plan compiled. */
  readonly reflected: readonly ReflectedCodec[]
}

/** How long a reflection stream to legacy may take: bounds a start or reload waiting for the types. */
export function reflectionTimeoutMs(config: Config): number {
  return Math.min(config.gateway.upstreamTimeout, 5_000)
}

export function compilePlan(
  config: Config,
  pools: PoolRegistry,
  queues: Map<string, MirrorQueue>,
  log: GatewayLog,
): GatewayPlan {
  const options = {
    connections: config.gateway.connections,
    connectTimeoutMs: Math.min(config.gateway.upstreamTimeout, 10_000),
  }
  const used = new Set<Pool>()
  const upstream = (
    label: string,
    t: SystemConfig['legacy'] & {},
    kind: 'serve' | 'mirror',
    url = t.url,
    grpcErrors: ReadonlySet<number> | null = null,
  ): Upstream => {
    const u = pools.upstream(
      label,
      url,
      t.headers,
      t.host,
      kind,
      options,
      grpcErrors === null ? t : { ...t, grpc: grpcErrors },
    )
    used.add(u.pool)
    return u
  }
  const routes = []
  const systems: string[] = []
  const reflected: ReflectedCodec[] = []
  for (const s of config.systems) {
    if (s.kind !== 'http' || s.legacy === undefined || s.candidate === undefined) continue
    systems.push(s.name)
    let queue = queues.get(s.name)
    if (queue === undefined) queues.set(s.name, (queue = new MirrorQueue(s.shadow.maxInFlight)))
    queue.max = s.shadow.maxInFlight
    const grpcErrors =
      s.protocol === 'grpc' ? new Set(s.grpc.errorCodes.map((n) => GRPC_STATUS_NAMES.indexOf(n))) : null
    const legacy = upstream(`legacy of system "${s.name}"`, s.legacy, 'serve', s.legacy.url, grpcErrors)
    let codec = null
    if (grpcErrors !== null && s.grpc.reflection) {
      codec = new ReflectedCodec(s.name, legacy, reflectionTimeoutMs(config), log)
      reflected.push(codec)
    } else if (grpcErrors !== null) codec = loadGrpcCodec(s.name, s.grpc.protos, s.grpc.includeDirs)
    const system: SystemPlan = {
      name: s.name,
      policy: {
        system: s.name,
        strategy: s.rollout.strategy,
        stickiness: parseStickiness(s.rollout.stickiness),
        targeting: compileTargeting(s.rollout.targeting),
      },
      shadow: {
        sample: s.shadow.sample,
        secondarySample: s.shadow.secondarySample,
        unsafeMethods: s.shadow.unsafeMethods,
        maxBodyBytes: s.shadow.maxBodyBytes,
        timeoutMs: s.shadow.timeout,
      },
      queue,
      serve: {
        legacy,
        candidate: upstream(`candidate of system "${s.name}"`, s.candidate, 'serve', s.candidate.url, grpcErrors),
      },
      mirror: {
        legacy: upstream(`legacy of system "${s.name}"`, s.legacy, 'mirror', s.legacy.url, grpcErrors),
        candidate: upstream(`candidate of system "${s.name}"`, s.candidate, 'mirror', s.candidate.url, grpcErrors),
      },
      secondary:
        s.legacy.secondary === undefined
          ? null
          : upstream(`legacy secondary of system "${s.name}"`, s.legacy, 'mirror', s.legacy.secondary, grpcErrors),
      fallbackToLegacy: s.rollout.fallbackToLegacy,
      grpc: grpcErrors === null ? null : ({ codec, errorCodes: grpcErrors } satisfies GrpcPlan),
    }
    for (const r of s.routes) {
      routes.push({ path: r.path, methods: r.methods, value: { system, template: r.path } })
    }
  }
  const fb = config.gateway.fallback
  return {
    matcher: new RouteMatcher(routes),
    fallback: fb === undefined ? null : upstream('gateway.fallback', fb, 'serve'),
    upstreamTimeoutMs: config.gateway.upstreamTimeout,
    systems,
    pools: used,
    routes: routes.map((r) => ({ system: r.value.system.name, route: r.value.template })),
    reflected,
  }
}
