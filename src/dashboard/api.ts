// The dashboard's client of the admin API: the bearer token lives in sessionStorage (typed into the
// login field or passed once as #token=...), and every call sends it.

// Response types are the server's own: type-only imports, erased from the browser bundle.
import type { ArmPoint, MetricsPoint } from '../admin/metrics-view.js'
import type { SystemSummary } from '../admin/system-view.js'
import type { Decision } from '../store/system-state.js'
import type { StoredVerdict as Verdict } from '../store/verdicts.js'

export type { ArmPoint, Decision, MetricsPoint, SystemSummary, Verdict }

const KEY = 'tandem.token'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export function token(): string | null {
  return sessionStorage.getItem(KEY)
}

export function setToken(value: string | null): void {
  if (value === null || value === '') sessionStorage.removeItem(KEY)
  else sessionStorage.setItem(KEY, value)
}

/** Move a `#token=...` fragment into sessionStorage so the token does not stay in the address bar. */
export function adoptFragmentToken(): void {
  const match = /(?:^#|[#&])token=([^&]+)/.exec(location.hash)
  if (match === null) return
  setToken(decodeURIComponent(match[1]!))
  history.replaceState(null, '', `${location.pathname}${location.search}#/`)
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = {}
  const t = token()
  if (t !== null) headers.authorization = `Bearer ${t}`
  // The admin API refuses mutating calls that do not declare JSON, with or without a body.
  if (init.body !== undefined || (init.method ?? 'GET') !== 'GET') headers['content-type'] = 'application/json'
  const res = await fetch(`api/v1${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
  const data = (await res.json().catch(() => ({}))) as { code?: string; message?: string }
  if (!res.ok) throw new ApiError(res.status, data.code ?? `HTTP_${res.status}`, data.message ?? res.statusText)
  return data as T
}

export type Role = 'viewer' | 'operator' | 'admin'

export interface Whoami {
  name: string
  role: Role
  authRequired: boolean
}

export interface SystemDetail extends SystemSummary {
  steps: Array<Record<string, unknown>>
  verdicts: Verdict[]
  decisions: Decision[]
}

export interface FieldDiff {
  path: string
  kind: string
  raw: number
  noise: number
  total: number
  real: boolean
  samples: Sample[]
}

export interface Sample {
  at?: number
  request?: { method?: string; url?: string; path?: string; body?: unknown }
  legacy?: { status?: number; body?: unknown }
  candidate?: { status?: number; body?: unknown }
  differences?: Array<{ path: string; field?: string; kind: string }>
}

export interface RouteDiff {
  route: string
  compared: number
  matches: number
  mismatches: number
  skipped: number
  matchRate: number | null
  fields: FieldDiff[]
}

export interface Report {
  /** successScore is null until a system has been promoted or rolled back. */
  kpis: Record<string, number | null>
  waves: Array<{ name: string; systems: string[]; open: boolean; reason: string; done: number; active: number }>
  program?: { halted: boolean; reason: string | null; actor: string | null; wave: string | null; at: number }
  targets?: Array<{ kpi: string; value: number; target: string; met: boolean }>
}
