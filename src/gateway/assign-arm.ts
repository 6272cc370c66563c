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

export type Stickiness =
  { kind: 'header'; name: string } | { kind: 'cookie'; name: string } | { kind: 'ip' } | { kind: 'random' }

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
    const [source, name] =
      r.header !== undefined
        ? (['header', r.header.toLowerCase()] as const)
        : r.cookie !== undefined
          ? (['cookie', r.cookie] as const)
          : (['query', r.query!] as const)
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

/** The value a targeting rule reads from a request. */
function requestValue(rule: TargetingRule, req: ArmRequest): string | undefined {
  return rule.source === 'header'
    ? headerValue(req.headers, rule.name)
    : rule.source === 'cookie'
      ? cookieValue(headerValue(req.headers, 'cookie'), rule.name)
      : queryValue(req.query, rule.name)
}

export interface ArmPolicy {
  readonly system: string
  readonly strategy: SystemConfig['rollout']['strategy']
  readonly stickiness: Stickiness
  readonly targeting: readonly TargetingRule[]
}

/** Why an arm was chosen, in OpenFeature's reason vocabulary (SPEC 12). */
export type ArmReason = 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'DISABLED'
export interface ArmChoice {
  readonly arm: Arm
  readonly reason: ArmReason
}
const choice = (arm: Arm, reason: ArmReason): ArmChoice => Object.freeze({ arm, reason })
const CHOICES = {
  disabled: choice('legacy', 'DISABLED'),
  legacy: choice('legacy', 'DEFAULT'),
  candidate: choice('candidate', 'DEFAULT'),
  targetLegacy: choice('legacy', 'TARGETING_MATCH'),
  targetCandidate: choice('candidate', 'TARGETING_MATCH'),
  splitLegacy: choice('legacy', 'SPLIT'),
  splitCandidate: choice('candidate', 'SPLIT'),
} as const

/**
 * The arm choice shared by the gateway (request headers) and the flags (OFREP context attributes,
 * the adapter): targeting applies in the active stages (shadow, canary, promoted); a pending or
 * rolled-back system serves legacy, a completed one the candidate. `key` undefined buckets at random.
 */
export function chooseArm(
  policy: ArmPolicy,
  routing: SystemRouting,
  key: () => string | undefined,
  valueOf: (rule: TargetingRule) => string | undefined,
): ArmChoice {
  const stage = routing.stage
  if (stage === 'pending' || stage === 'rolled-back') return CHOICES.disabled
  if (stage === 'completed') return CHOICES.candidate
  for (const rule of policy.targeting) {
    const value = valueOf(rule)
    if (value === undefined || !rule.values.has(value)) continue
    return rule.arm === 'candidate' ? CHOICES.targetCandidate : CHOICES.targetLegacy
  }
  if (stage === 'promoted') return CHOICES.candidate
  if (stage === 'shadow') return CHOICES.legacy
  // canary
  if (policy.strategy === 'blue-green') return routing.activeArm === 'candidate' ? CHOICES.candidate : CHOICES.legacy
  const weight = routing.weight
  if (weight <= 0) return CHOICES.legacy
  if (weight >= 100) return CHOICES.candidate
  const k = key()
  const b = k === undefined ? Math.floor(Math.random() * 10000) : bucket(policy.system, k)
  return b < weight * 100 ? CHOICES.splitCandidate : CHOICES.splitLegacy
}

/** The arm that serves this request (see chooseArm). */
export function assignArm(policy: ArmPolicy, routing: SystemRouting, req: ArmRequest): Arm {
  return chooseArm(
    policy,
    routing,
    () => stickyKey(policy.stickiness, req),
    (rule) => requestValue(rule, req),
  ).arm
}
