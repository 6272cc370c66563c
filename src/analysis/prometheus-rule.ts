// Custom metrics (SPEC 5, `analysis.metrics`): a PromQL instant query run once per arm against the team's
// Prometheus, judged like the built-in rules; a metric without a value is inconclusive, never a pass.
import { request } from 'undici'
import type { SystemConfig } from '../config/schema.js'
import { compare } from '../config/units.js'
import { TandemError, isTandemError } from '../errors.js'
import { redactSecrets } from '../redact.js'
import type { Arm } from '../domain/stages.js'
import type { RuleEvidence, RuleResult } from './evidence.js'

export type CustomMetric = SystemConfig['analysis']['metrics'][number]

/** One arm's query as run, its value, and why it has none. */
export interface ArmReading {
  readonly query: string
  readonly value: number | null
  readonly error?: { readonly code: string; readonly message: string }
}

export interface CustomReading {
  readonly metric: CustomMetric
  readonly legacy: ArmReading
  readonly candidate: ArmReading
}

/** A PromQL duration for `{{interval}}`: `10s`, or `1500ms` when not whole seconds. */
export function promDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${Math.round(ms)}ms`
}

export function renderQuery(template: string, vars: { system: string; arm: Arm; interval: number }): string {
  const values = { system: vars.system, arm: vars.arm, interval: promDuration(vars.interval) }
  return template.replace(/\{\{\s*(system|arm|interval)\s*\}\}/g, (_, key: keyof typeof values) => values[key])
}

/** The query endpoint under `url` (a path prefix and query parameters kept), credentials sent as a header. */
function endpointOf(url: string): { endpoint: string; headers: Record<string, string> } {
  const base = new URL(url)
  const headers: Record<string, string> = {}
  if (base.username !== '' || base.password !== '') {
    const user = decodeURIComponent(base.username)
    headers.authorization = `Basic ${Buffer.from(`${user}:${decodeURIComponent(base.password)}`).toString('base64')}`
    base.username = ''
    base.password = ''
  }
  const endpoint = new URL('api/v1/query', base.href.replace(/[?#].*$/, '').replace(/\/?$/, '/'))
  endpoint.search = base.search
  return { endpoint: endpoint.href, headers }
}

interface PromAnswer {
  status?: string
  errorType?: string
  error?: string
  data?: { resultType?: string; result?: unknown }
}

/** Run one instant query at `at` (epoch ms): its single finite value, or a TandemError saying why none. */
export async function instantQuery(
  target: { url: string; metric: string; arm: Arm; timeout: number },
  query: string,
  at: number,
): Promise<number> {
  const { url, metric, arm, timeout } = target
  const { endpoint, headers } = endpointOf(url)
  const body = new URLSearchParams({ query, time: (at / 1000).toFixed(3), timeout: `${timeout}ms` }).toString()
  let status: number
  let answer: PromAnswer
  try {
    const res = await request(endpoint, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: AbortSignal.timeout(timeout),
    })
    status = res.statusCode
    const text = await res.body.text()
    try {
      answer = JSON.parse(text) as PromAnswer
    } catch {
      answer = { error: `answered ${status} with a body that is not JSON: ${text.slice(0, 200)}` }
    }
  } catch (error) {
    const detail = (error as Error).message
    throw new TandemError('TANDEM_ERR_PROMETHEUS_UNREACHABLE', { url, metric, detail }, { cause: error })
  }
  if (status !== 200 || answer.status !== 'success') {
    const detail = `${status} ${answer.errorType ?? ''}: ${answer.error ?? 'no error message'}`.replace(/ :/, ':')
    const busy = status === 503 || answer.errorType === 'timeout' || answer.errorType === 'unavailable'
    const code = busy ? 'TANDEM_ERR_PROMETHEUS_UNREACHABLE' : 'TANDEM_ERR_PROMETHEUS_QUERY'
    throw new TandemError(code, { url, metric, detail })
  }
  return valueOf(answer.data ?? {}, metric, arm)
}

function valueOf(data: NonNullable<PromAnswer['data']>, metric: string, arm: Arm): number {
  const none = (detail: string) => new TandemError('TANDEM_ERR_PROMETHEUS_NO_VALUE', { metric, arm, detail })
  let raw: unknown
  if (data.resultType === 'scalar' && Array.isArray(data.result)) raw = data.result[1]
  else if (data.resultType === 'vector' && Array.isArray(data.result)) {
    const series = data.result as Array<{ value?: [number, string] }>
    if (series.length === 0) throw none('an empty result')
    if (series.length > 1) throw none(`${series.length} series`)
    raw = series[0]?.value?.[1]
  } else throw none(`a ${String(data.resultType)} result where an instant vector or scalar was expected`)
  const value = Number(raw)
  if (typeof raw !== 'string' || !Number.isFinite(value)) throw none(`the value ${String(raw)}`)
  return value
}

/** Every custom metric of `system`, both arms queried at once, at `at`; never throws (errors are readings). */
export async function readCustomMetrics(system: SystemConfig, at: number): Promise<CustomReading[]> {
  const { metrics, interval } = system.analysis
  const read = async (metric: CustomMetric, arm: Arm): Promise<ArmReading> => {
    const query = renderQuery(metric.prometheus.query, { system: system.name, arm, interval })
    try {
      const target = { url: metric.prometheus.url, metric: metric.name, arm, timeout: metric.prometheus.timeout }
      return { query, value: await instantQuery(target, query, at) }
    } catch (error) {
      const code = isTandemError(error) ? error.code : 'TANDEM_ERR_PROMETHEUS_UNREACHABLE'
      return { query, value: null, error: { code, message: redactSecrets((error as Error).message) } }
    }
  }
  return Promise.all(
    metrics.map(async (metric) => {
      const [legacy, candidate] = await Promise.all([read(metric, 'legacy'), read(metric, 'candidate')])
      return { metric, legacy, candidate }
    }),
  )
}

/**
 * The rules of the custom metrics, evidence in the built-in rules' shape plus the query run per arm,
 * each arm's value and the errors. The candidate's value is judged; a relative threshold (`> 2x`)
 * multiplies legacy's. No value (or no legacy baseline for a relative one) is `inconclusive`.
 */
export function customRules(
  readings: readonly CustomReading[],
  window: RuleEvidence['window'],
  dryRun: ReadonlySet<string>,
  samples: RuleEvidence['samples'],
): RuleEvidence[] {
  const rules: RuleEvidence[] = []
  for (const { metric, legacy, candidate } of readings) {
    for (const kind of ['rollback', 'promote'] as const) {
      const threshold = metric[kind]
      if (threshold === undefined || threshold === null) continue
      const errors = (['legacy', 'candidate'] as const).flatMap((arm) => {
        const e = (arm === 'legacy' ? legacy : candidate).error
        return e === undefined ? [] : [{ arm, ...e }]
      })
      const base = {
        rule: `${kind}.${metric.name}`,
        metric: metric.name,
        threshold: threshold.source,
        samples,
        window,
        dryRun: dryRun.has(metric.name),
        source: redactSecrets(metric.prometheus.url),
        query: { legacy: legacy.query, candidate: candidate.query },
        values: { legacy: legacy.value, candidate: candidate.value },
        ...(errors.length > 0 ? { errors } : {}),
        value: candidate.value,
        baseline: threshold.relative ? legacy.value : null,
      }
      if (candidate.value === null) {
        const why = errors.find((e) => e.arm === 'candidate')?.message ?? 'no value'
        rules.push({ ...base, limit: null, result: 'inconclusive', note: why })
        continue
      }
      if (threshold.relative && (legacy.value === null || legacy.value === 0)) {
        const legacyError = errors.find((e) => e.arm === 'legacy')?.message
        const why = legacy.value === 0 ? "legacy's value is 0" : (legacyError ?? 'no legacy value')
        const note = `no baseline for a relative threshold: ${why}`
        rules.push({ ...base, limit: null, result: 'inconclusive', note })
        continue
      }
      const limit = threshold.relative ? threshold.value * (legacy.value ?? 0) : threshold.value
      const holds = compare(candidate.value, threshold.op, limit)
      const result: RuleResult = kind === 'rollback' ? (holds ? 'fail' : 'pass') : holds ? 'pass' : 'fail'
      rules.push({ ...base, limit, result })
    }
  }
  return rules
}
