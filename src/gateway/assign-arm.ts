// Arm choice for one request: targeting rules, then the stage (blue-green colour, canary weight by
// sticky bucket), else legacy. Buckets are Unleash's murmur3 normalisation at 0.01 % resolution.
import type { IncomingHttpHeaders } from 'node:http'
import murmur from 'murmurhash3js'
import type { SystemConfig } from '../config/schema.js'
import type { Arm } from '../domain/stages.js'
import type { SystemRouting } from '../domain/routing-table.js'

/** `murmur3_x86_32(system + ":" + key, seed 0) % 10000`: Unleash's `normalizedValue` with 10000 buckets. */
export function bucket(system: string, key: string): number {
  return murmur.x86.hash32(`${system}:${key}`, 0) % 10000
}

/** The part of a request arm choice reads. */
export interface ArmRequest {
  readonly headers: IncomingHttpHeaders
  /** Query string without `?`, or '' */
  readonly query: string
  readonly remoteAddress: string | undefined
}

export type Stickiness = { kind: 'header'; name: string } | { kind: 'cookie'; name: string } | { kind: 'ip' } | { kind: 'random' }

export function parseStickiness(text: string): Stickiness {
  if (text.startsWith('header:')) return { kind: 'header', name: text.slice(7).toLowerCase() }
  if (text.startsWith('cookie:')) return { kind: 'cookie', name: text.slice(7) }
  return text === 'ip' ? { kind: 'ip' } : { kind: 'random' }
}

export interface TargetingRule {
  readonly source: 'header' | 'cookie' | 'query'
  readonly name: string
  readonly values: ReadonlySet<string>
  readonly arm: Arm
}

export function compileTargeting(rules: SystemConfig['rollout']['targeting']): TargetingRule[] {
  return rules.map((r) => {
    const [source, name] = r.header !== undefined ? (['header', r.header.toLowerCase()] as const) : r.cookie !== undefined ? (['cookie', r.cookie] as const) : (['query', r.query!] as const)
    return { source, name, values: new Set(r.in), arm: r.arm }
  })
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponentSafe(part.slice(eq + 1).trim())
  }
  return undefined
}

function queryValue(query: string, name: string): string | undefined {
  if (query === '') return undefined
  return new URLSearchParams(query).get(name) ?? undefined
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** The sticky key of a request; undefined when the request lacks it (then the choice is random). */
export function stickyKey(stickiness: Stickiness, req: ArmRequest): string | undefined {
  switch (stickiness.kind) {
    case 'header':
      return headerValue(req.headers, stickiness.name) || undefined
    case 'cookie':
      return cookieValue(headerValue(req.headers, 'cookie'), stickiness.name) || undefined
    case 'ip':
      return req.remoteAddress
    case 'random':
      return undefined
  }
}

function targeted(rules: readonly TargetingRule[], req: ArmRequest): Arm | undefined {
  for (const rule of rules) {
    const value =
      rule.source === 'header'
        ? headerValue(req.headers, rule.name)
        : rule.source === 'cookie'
          ? cookieValue(headerValue(req.headers, 'cookie'), rule.name)
          : queryValue(req.query, rule.name)
    if (value !== undefined && rule.values.has(value)) return rule.arm
  }
  return undefined
}

export interface ArmPolicy {
  readonly system: string
  readonly strategy: SystemConfig['rollout']['strategy']
  readonly stickiness: Stickiness
  readonly targeting: readonly TargetingRule[]
}

/**
 * The arm that serves this request. Targeting applies in the active stages (shadow, canary,
 * promoted): a pending or rolled-back system sends everything to legacy, a completed one to the candidate.
 */
export function assignArm(policy: ArmPolicy, routing: SystemRouting, req: ArmRequest): Arm {
  const stage = routing.stage
  if (stage === 'pending' || stage === 'rolled-back') return 'legacy'
  if (stage === 'completed') return 'candidate'
  if (policy.targeting.length > 0) {
    const forced = targeted(policy.targeting, req)
    if (forced !== undefined) return forced
  }
  if (stage === 'promoted') return 'candidate'
  if (stage === 'shadow') return 'legacy'
  // canary
  if (policy.strategy === 'blue-green') return routing.activeArm
  const weight = routing.weight
  if (weight <= 0) return 'legacy'
  if (weight >= 100) return 'candidate'
  const key = stickyKey(policy.stickiness, req)
  const b = key === undefined ? Math.floor(Math.random() * 10000) : bucket(policy.system, key)
  return b < weight * 100 ? 'candidate' : 'legacy'
}
