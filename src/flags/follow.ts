// A client following one system's flag (SPEC 12): it polls the instance's OFREP bulk endpoint with ETags,
// keeps the stage, weight and targeting in memory and picks the arm per key with the gateway's buckets.
import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { chooseArm, compileTargeting, type ArmChoice, type ArmPolicy } from '../gateway/assign-arm.js'
import type { SystemRouting } from '../domain/routing-table.js'
import type { Arm, Stage } from '../domain/stages.js'
import { CLIENT_HEADER, FOLLOWS_HEADER } from './clients.js'

/** Refresh interval bounds: a rollback must reach every client within one second. */
export const DEFAULT_REFRESH_MS = 250
export const MAX_REFRESH_MS = 1000

export interface FollowOptions {
  /** The admin listener, e.g. http://127.0.0.1:8081. */
  readonly admin: string
  readonly token?: string
  /** How often the flag is refreshed (default 250 ms, at most 1000). */
  readonly refreshMs?: number
  /** Names this client in `tandem status` (default: a random id). */
  readonly clientId?: string
  /** Told about refresh failures (the flag then serves legacy until the instance answers again). */
  readonly onError?: (error: unknown) => void
}

export interface FlagSnapshot {
  readonly routing: SystemRouting
  readonly policy: ArmPolicy
}

const LEGACY: ArmChoice = Object.freeze({ arm: 'legacy', reason: 'DISABLED' })
const NO_ATTRIBUTES = (): undefined => undefined

export class FlagFollower {
  readonly system: string
  readonly refreshMs: number
  readonly clientId: string
  readonly #o: FollowOptions
  readonly #url: string
  #snapshot: FlagSnapshot | undefined
  #etag: string | undefined
  #timer: NodeJS.Timeout | undefined
  #inFlight: Promise<void> | undefined
  #first: Promise<void>
  #listeners: Array<(s: FlagSnapshot | undefined) => void> = []

  constructor(system: string, options: FollowOptions) {
    this.system = system
    this.#o = options
    this.refreshMs = Math.min(MAX_REFRESH_MS, Math.max(10, options.refreshMs ?? DEFAULT_REFRESH_MS))
    this.clientId = (options.clientId ?? `${system}-${randomUUID()}`).slice(0, 128)
    this.#url = new URL('/ofrep/v1/evaluate/flags', options.admin).href
    this.#first = this.refresh()
    this.#timer = setInterval(() => void this.refresh(), this.refreshMs)
    this.#timer.unref()
  }

  /** Resolves once the first refresh has answered (or failed). */
  ready(): Promise<void> {
    return this.#first
  }

  /** The last state read; undefined while the instance cannot be reached (legacy then serves). */
  get snapshot(): FlagSnapshot | undefined {
    return this.#snapshot
  }

  get stage(): Stage | undefined {
    return this.#snapshot?.routing.stage
  }

  /** Called on every change of the state (a rollback, a step, the instance lost or found). */
  onChange(listener: (s: FlagSnapshot | undefined) => void): void {
    this.#listeners.push(listener)
  }

  /** The arm for a stickiness key (and targeting attributes); legacy while nothing is known. */
  choose(key: () => string | undefined, attributes: (name: string) => string | undefined = NO_ATTRIBUTES): ArmChoice {
    const s = this.#snapshot
    if (s === undefined) return LEGACY
    return chooseArm(s.policy, s.routing, key, (rule) => attributes(rule.name))
  }

  arm(key: string): Arm {
    return this.choose(() => key).arm
  }

  /** Poll once now (also what the timer does). */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#poll().finally(() => (this.#inFlight = undefined))
    return this.#inFlight
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  async #poll(): Promise<void> {
    try {
      const res = await request(this.#url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [CLIENT_HEADER]: this.clientId,
          [FOLLOWS_HEADER]: this.system,
          ...(this.#o.token === undefined ? {} : { authorization: `Bearer ${this.#o.token}` }),
          ...(this.#etag === undefined || this.#snapshot === undefined ? {} : { 'if-none-match': this.#etag }),
        },
        body: JSON.stringify({ context: { targetingKey: this.clientId } }),
        headersTimeout: this.refreshMs * 2,
        bodyTimeout: this.refreshMs * 2,
      })
      if (res.statusCode === 304) return void (await res.body.dump())
      const text = await res.body.text()
      if (res.statusCode !== 200) throw new Error(`${this.#url} answered ${res.statusCode}: ${text.slice(0, 200)}`)
      const etag = res.headers.etag
      this.#etag = typeof etag === 'string' ? etag : undefined
      this.#set(parseSnapshot(this.system, JSON.parse(text) as unknown))
    } catch (error) {
      this.#etag = undefined
      this.#set(undefined)
      this.#o.onError?.(error)
    }
  }

  #set(next: FlagSnapshot | undefined): void {
    const before = this.#snapshot
    this.#snapshot = next
    if (before === next) return
    for (const l of this.#listeners) l(next)
  }
}

/** The system's entry of a bulk evaluation, turned back into the state the arm choice needs. */
export function parseSnapshot(system: string, body: unknown): FlagSnapshot | undefined {
  const flags = (body as { flags?: unknown }).flags
  if (!Array.isArray(flags)) return undefined
  const flag = flags.find((f: { key?: unknown }) => f?.key === system) as
    { metadata?: Record<string, unknown> } | undefined
  const m = flag?.metadata
  if (m === undefined || typeof m.stage !== 'string') return undefined
  const rules = JSON.parse(typeof m.targeting === 'string' ? m.targeting : '[]') as Parameters<
    typeof compileTargeting
  >[0]
  return {
    routing: {
      stage: m.stage as Stage,
      weight: Number(m.weight ?? 0),
      activeArm: m.activeArm === 'candidate' ? 'candidate' : 'legacy',
      paused: m.paused === true,
    },
    policy: {
      system,
      strategy: (m.strategy as ArmPolicy['strategy']) ?? 'canary',
      stickiness: { kind: 'random' },
      targeting: compileTargeting(rules),
    },
  }
}
