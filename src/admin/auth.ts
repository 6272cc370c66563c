// Bearer-token authentication and role checks for the admin API: tokens come from admin.tokens,
// comparison is constant-time over SHA-256 digests, and failed attempts are rate-limited per client IP.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Config, Role } from '../config/schema.js'
import { TandemError } from '../errors.js'

/** Who is calling: a token's name and role, or `anonymous` admin when no token is configured. */
export interface Principal {
  readonly name: string
  readonly role: Role
}

export type RequiredRole = Role | 'public'

// `flags` sits below viewer: it evaluates flags and reports adapter observations, and reads nothing else.
const RANK: Record<Role, number> = { flags: 0, viewer: 1, operator: 2, admin: 3 }

export function roleAllows(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required]
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()

/** Pull the token out of an `Authorization: Bearer X` header; undefined when absent or malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

/**
 * Find the configured token matching `presented`. Every configured token is compared (no early exit)
 * over fixed-length digests, so neither the length nor the position of a match leaks through timing.
 */
export function matchToken(config: Config, presented: string): Principal | undefined {
  const wanted = digest(presented)
  let found: Principal | undefined
  for (const t of config.admin.tokens) {
    if (timingSafeEqual(digest(t.token), wanted) && found === undefined) found = { name: t.name, role: t.role }
  }
  return found
}

export interface FailureLimit {
  /** Failed attempts allowed per IP within `windowMs` before further requests get 429. */
  readonly max: number
  readonly windowMs: number
}

export const DEFAULT_FAILURE_LIMIT: FailureLimit = { max: 20, windowMs: 60_000 }

/** Counts failed authentications per client IP in a fixed window; memory is bounded by pruning. */
export class FailureLimiter {
  readonly #limit: FailureLimit
  readonly #entries = new Map<string, { count: number; resetAt: number }>()

  constructor(limit: FailureLimit = DEFAULT_FAILURE_LIMIT) {
    this.#limit = limit
  }

  /** Throws TANDEM_ERR_ADMIN_RATE_LIMITED while `ip` is over its budget. */
  check(ip: string, now = Date.now()): void {
    const entry = this.#entries.get(ip)
    if (entry === undefined) return
    if (now >= entry.resetAt) {
      this.#entries.delete(ip)
      return
    }
    if (entry.count >= this.#limit.max) {
      throw new TandemError('TANDEM_ERR_ADMIN_RATE_LIMITED', {
        ip,
        retryAfter: Math.ceil((entry.resetAt - now) / 1000),
      })
    }
  }

  fail(ip: string, now = Date.now()): void {
    if (this.#entries.size > 10_000) this.#prune(now)
    const entry = this.#entries.get(ip)
    if (entry === undefined || now >= entry.resetAt)
      this.#entries.set(ip, { count: 1, resetAt: now + this.#limit.windowMs })
    else entry.count += 1
  }

  #prune(now: number): void {
    for (const [ip, entry] of this.#entries) if (now >= entry.resetAt) this.#entries.delete(ip)
  }
}

/**
 * Identify the caller from the Authorization header. With no token configured every caller is the
 * `anonymous` admin (the bind check keeps such a listener on loopback). Throws 401 or 429 errors.
 */
export function identify(
  config: Config,
  limiter: FailureLimiter,
  ip: string,
  authorization: string | undefined,
): Principal {
  if (config.admin.tokens.length === 0) return { name: 'anonymous', role: 'admin' }
  limiter.check(ip)
  const presented = bearerToken(authorization)
  const principal = presented === undefined ? undefined : matchToken(config, presented)
  if (principal === undefined) {
    // Only a wrong token is an attempt; a request without one (a fresh dashboard) is not.
    if (presented !== undefined) limiter.fail(ip)
    throw new TandemError('TANDEM_ERR_ADMIN_UNAUTHORIZED')
  }
  return principal
}

/** Throws TANDEM_ERR_ADMIN_FORBIDDEN when the principal's role is below `required`. */
export function authorize(principal: Principal, required: Role, what: string): void {
  if (!roleAllows(principal.role, required)) {
    throw new TandemError('TANDEM_ERR_ADMIN_FORBIDDEN', { actor: principal.name, role: principal.role, what, required })
  }
}
