// Header rewriting between client and upstream: hop-by-hop headers are dropped both ways (RFC 9110
// 7.6.1), x-forwarded-* are added, and per-target headers and the Host rewrite are applied. `expect` is
// dropped too: node:http answers 100-continue itself and undici refuses the header.
import type { IncomingHttpHeaders } from 'node:http'

const HOP_BY_HOP = new Set([
  'expect',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** Headers the gateway sets itself; the client's values are replaced (x-forwarded-for is appended to). */
const REPLACED = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-tandem-shadow'])

function isHopByHop(lower: string): boolean {
  return HOP_BY_HOP.has(lower) || lower.startsWith('proxy-')
}

/** Extra hop-by-hop names listed in a Connection header. */
function connectionTokens(value: string | string[] | undefined): Set<string> | null {
  // The usual values name no extra header: skip the split (this runs for every request and response).
  if (value === undefined || value === 'keep-alive' || value === 'close') return null
  const text = Array.isArray(value) ? value.join(',') : value
  const tokens = new Set<string>()
  for (const t of text.split(',')) {
    const name = t.trim().toLowerCase()
    if (name !== '' && name !== 'close' && name !== 'keep-alive') tokens.add(name)
  }
  return tokens.size === 0 ? null : tokens
}

/** A target's fixed header rewrites, computed once per config. */
export interface TargetHeaders {
  /** Lower-case names the target overrides (dropped from the client's headers). */
  readonly override: ReadonlySet<string>
  /** Flat [name, value, ...] appended to every request to the target. */
  readonly extra: readonly string[]
  /** `host: target`: the target's host:port; null keeps the client's Host. */
  readonly host: string | null
}

export function compileTargetHeaders(
  url: URL,
  headers: Readonly<Record<string, string>>,
  host: 'keep' | 'target',
): TargetHeaders {
  const extra: string[] = []
  const override = new Set<string>()
  for (const [k, v] of Object.entries(headers)) {
    override.add(k.toLowerCase())
    extra.push(k, v)
  }
  return { override, extra, host: host === 'target' ? url.host : null }
}

/** Client request facts the forwarded headers need. */
export interface ForwardFacts {
  readonly rawHeaders: readonly string[]
  readonly headers: IncomingHttpHeaders
  readonly remoteAddress: string | undefined
  readonly encrypted: boolean
  /**
   * The first header list built for a target without overrides: its first `forwardedLength` entries are
   * the client's part (hop-by-hop dropped, x-forwarded-* added), reused so that a mirror call does not
   * filter the client's headers again.
   */
  forwarded?: readonly string[]
  forwardedLength?: number
}

/** The client's part of the upstream headers: all but the target's Host, overrides, extras and shadow tag. */
function clientPart(facts: ForwardFacts, override: ReadonlySet<string>): string[] {
  const raw = facts.rawHeaders
  const tokens = connectionTokens(facts.headers.connection)
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    const lower = name.toLowerCase()
    if (isHopByHop(lower) || REPLACED.has(lower) || override.has(lower)) continue
    if (tokens !== null && tokens.has(lower)) continue
    out.push(name, raw[i + 1]!)
  }
  const clientHost = facts.headers.host
  const prior = facts.headers['x-forwarded-for']
  const ip = facts.remoteAddress ?? ''
  out.push('x-forwarded-for', prior === undefined ? ip : `${Array.isArray(prior) ? prior.join(', ') : prior}, ${ip}`)
  out.push('x-forwarded-proto', facts.encrypted ? 'https' : 'http')
  if (clientHost !== undefined) out.push('x-forwarded-host', clientHost)
  return out
}

/** Upstream request headers as a flat [name, value, ...] list (what undici accepts without copying). */
export function upstreamRequestHeaders(facts: ForwardFacts, target: TargetHeaders, shadow: boolean): string[] {
  let out: string[]
  if (target.override.size > 0) out = clientPart(facts, target.override)
  else if (facts.forwarded !== undefined) out = facts.forwarded.slice(0, facts.forwardedLength)
  else {
    out = clientPart(facts, target.override)
    facts.forwarded = out
    facts.forwardedLength = out.length
  }
  const host = target.host ?? facts.headers.host
  if (host !== undefined) out.push('host', host)
  if (shadow) out.push('x-tandem-shadow', '1')
  for (let i = 0; i < target.extra.length; i++) out.push(target.extra[i]!)
  return out
}

/**
 * The upstream response headers without hop-by-hop ones. Builds a new object rather than deleting
 * from undici's (`delete` turns it into a slow dictionary object that writeHead then walks).
 */
export function stripResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[] | undefined> {
  const tokens = connectionTokens(headers.connection)
  const out: Record<string, string | string[] | undefined> = {}
  for (const name in headers) {
    if (isHopByHop(name) || (tokens !== null && tokens.has(name))) continue
    out[name] = headers[name]
  }
  return out
}
