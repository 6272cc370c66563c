// Every system served as a boolean flag in the OpenFeature Remote Evaluation Protocol's shapes (SPEC 12):
// flag key = system name, targetingKey = stickiness key, value true = candidate; buckets are the gateway's.
import { createHash } from 'node:crypto'
import type { Config, SystemConfig } from '../config/schema.js'
import {
  chooseArm,
  compileTargeting,
  parseStickiness,
  type ArmPolicy,
  type TargetingRule,
} from '../gateway/assign-arm.js'
import type { SystemRouting } from '../domain/routing-table.js'

/** Every kind has a flag: the gateway and apps follow http and code systems, data and event helpers the rest. */
const FLAG_KINDS: ReadonlySet<SystemConfig['kind']> = new Set(['http', 'code', 'datastore', 'events'])

/** OFREP metadata: flat values only (boolean, string, number). */
export type FlagMetadata = Record<string, boolean | string | number>

export interface OfrepSuccess {
  readonly key: string
  readonly value: boolean
  readonly reason: 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'DISABLED'
  readonly variant: 'candidate' | 'legacy'
  readonly metadata: FlagMetadata
}

export interface OfrepFailure {
  readonly key: string
  readonly errorCode: 'FLAG_NOT_FOUND' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'PARSE_ERROR' | 'GENERAL'
  readonly errorDetails: string
}

export interface OfrepAnswer<T> {
  readonly status: number
  readonly body: T
}

/** Bounds of an evaluation context: beyond them it is INVALID_CONTEXT, never stored or echoed. */
export const MAX_CONTEXT_ATTRIBUTES = 256
export const MAX_TARGETING_KEY = 1024

/** A context already checked: the key and a lookup of attributes as targeting rules read them. */
export interface CheckedContext {
  readonly targetingKey: string | undefined
  readonly attributes: Readonly<Record<string, unknown>>
}

/** Check an OFREP request body; a string says what is wrong (INVALID_CONTEXT). */
export function checkContext(body: unknown): CheckedContext | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return 'the request body must be a JSON object `{ "context": { "targetingKey": ... } }`'
  const context = (body as { context?: unknown }).context
  if (context === undefined) return { targetingKey: undefined, attributes: {} }
  if (context === null || typeof context !== 'object' || Array.isArray(context))
    return '`context` must be a JSON object'
  const attributes = context as Record<string, unknown>
  let n = 0
  for (const _ in attributes)
    if (++n > MAX_CONTEXT_ATTRIBUTES) return `\`context\` has more than ${MAX_CONTEXT_ATTRIBUTES} attributes`
  const key = attributes.targetingKey
  if (key !== undefined && typeof key !== 'string') return '`context.targetingKey` must be a string'
  if (typeof key === 'string' && key.length > MAX_TARGETING_KEY)
    return `\`context.targetingKey\` is longer than ${MAX_TARGETING_KEY} characters`
  return { targetingKey: key === '' ? undefined : key, attributes }
}

interface Flag {
  readonly system: SystemConfig
  readonly policy: ArmPolicy
  /** The targeting rules as flag metadata (a JSON string; OFREP metadata values are flat). */
  readonly targeting: string
  readonly keyJson: string
  /** Metadata per routing state (the routing table replaces its frozen entries on every change). */
  readonly meta: WeakMap<SystemRouting, { readonly value: FlagMetadata; readonly json: string }>
}

/** A context attribute as a targeting rule reads it: the exact name, else (headers) any case. */
function attributeValue(attributes: Readonly<Record<string, unknown>>, rule: TargetingRule): string | undefined {
  let v = attributes[rule.name]
  if (v === undefined && rule.source === 'header') {
    for (const name in attributes) {
      if (name.toLowerCase() === rule.name) {
        v = attributes[name]
        break
      }
    }
  }
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined
}

/** Evaluates flags from the configuration in force and the routing table the controller publishes. */
export class FlagEvaluator {
  readonly #config: () => Config
  readonly #routing: (system: string) => SystemRouting
  #compiledFor: Config | undefined
  #flags = new Map<string, Flag>()

  constructor(config: () => Config, routing: (system: string) => SystemRouting) {
    this.#config = config
    this.#routing = routing
  }

  #all(): Map<string, Flag> {
    const config = this.#config()
    if (config === this.#compiledFor) return this.#flags
    const flags = new Map<string, Flag>()
    for (const s of config.systems) {
      // datastore and events systems too: dualWrite, shadowRead and dualPublish follow their stage.
      if (!FLAG_KINDS.has(s.kind)) continue
      const policy: ArmPolicy = {
        system: s.name,
        strategy: s.rollout.strategy,
        stickiness: parseStickiness(s.rollout.stickiness),
        targeting: compileTargeting(s.rollout.targeting),
      }
      const targeting = JSON.stringify(s.rollout.targeting.map((r) => ({ ...r })))
      flags.set(s.name, { system: s, policy, targeting, keyJson: JSON.stringify(s.name), meta: new WeakMap() })
    }
    this.#compiledFor = config
    this.#flags = flags
    return flags
  }

  /** The flag of a system (http, code, datastore or events), or undefined. */
  has(key: string): boolean {
    return this.#all().has(key)
  }

  /** `POST /ofrep/v1/evaluate/flags/{key}`: 200 success, 404 FLAG_NOT_FOUND, 400 otherwise. */
  evaluate(key: string, body: unknown): OfrepAnswer<OfrepSuccess | OfrepFailure> {
    const flag = this.#all().get(key)
    if (flag === undefined)
      return {
        status: 404,
        body: {
          key,
          errorCode: 'FLAG_NOT_FOUND',
          errorDetails: `flag '${clip(key)}' was not found: no system has that name (the flag key is a system name)`,
        },
      }
    const context = checkContext(body)
    if (typeof context === 'string')
      return { status: 400, body: { key, errorCode: 'INVALID_CONTEXT', errorDetails: context } }
    const result = this.#one(flag, context)
    return { status: 'errorCode' in result ? 400 : 200, body: result }
  }

  /** evaluate() serialised, the hot path of the endpoint: cached key and metadata JSON, no re-encoding. */
  evaluateJson(key: string, body: unknown): OfrepAnswer<string> {
    const flag = this.#all().get(key)
    const context = flag === undefined ? undefined : checkContext(body)
    if (flag === undefined || typeof context !== 'object') {
      const answer = this.evaluate(key, body)
      return { status: answer.status, body: JSON.stringify(answer.body) }
    }
    return this.#oneJson(flag, context)
  }

  #oneJson(flag: Flag, context: CheckedContext): OfrepAnswer<string> {
    const result = this.#one(flag, context)
    if ('errorCode' in result) return { status: 400, body: JSON.stringify(result) }
    const meta = this.#meta(flag, this.#routing(flag.system.name)).json
    return {
      status: 200,
      body:
        `{"key":${flag.keyJson},"value":${result.value},"reason":"${result.reason}",` +
        `"variant":"${result.variant}","metadata":${meta}}`,
    }
  }

  #meta(flag: Flag, routing: SystemRouting): { readonly value: FlagMetadata; readonly json: string } {
    let m = flag.meta.get(routing)
    if (m === undefined) {
      const value: FlagMetadata = {
        kind: flag.system.kind,
        stage: routing.stage,
        weight: routing.weight,
        activeArm: routing.activeArm,
        strategy: flag.policy.strategy,
        paused: routing.paused,
        targeting: flag.targeting,
      }
      m = { value, json: JSON.stringify(value) }
      flag.meta.set(routing, m)
    }
    return m
  }

  /** `POST /ofrep/v1/evaluate/flags`: every flag for one context, with an ETag of the answer. */
  bulk(body: unknown): OfrepAnswer<string> & { etag?: string } {
    const context = checkContext(body)
    if (typeof context === 'string')
      return { status: 400, body: JSON.stringify({ errorCode: 'INVALID_CONTEXT', errorDetails: context }) }
    const json = `{"flags":[${[...this.#all().values()].map((f) => this.#oneJson(f, context).body).join(',')}]}`
    // The ETag is the answer's digest: it changes exactly when an evaluation (or its metadata) does.
    const etag = `"${createHash('sha1').update(json).digest('base64url')}"`
    return { status: 200, body: json, etag }
  }

  #one(flag: Flag, context: CheckedContext): OfrepSuccess | OfrepFailure {
    const key = flag.system.name
    const routing = this.#routing(key)
    // Only a canary split reads the key (targeting rules and the other stages answer without one).
    let missing = false
    const choice = chooseArm(
      flag.policy,
      routing,
      () => {
        missing = context.targetingKey === undefined
        return context.targetingKey
      },
      (rule) => attributeValue(context.attributes, rule),
    )
    if (missing) {
      return {
        key,
        errorCode: 'TARGETING_KEY_MISSING',
        errorDetails: `flag '${key}' splits by key: send \`context.targetingKey\` (its stickiness key)`,
      }
    }
    return {
      key,
      value: choice.arm === 'candidate',
      reason: choice.reason,
      variant: choice.arm,
      metadata: this.#meta(flag, routing).value,
    }
  }
}

function clip(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}...` : s
}
