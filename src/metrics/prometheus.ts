// Prometheus exposition (prom-client) of every tandem_* metric. Request counts and latency histograms
// are read from the gateway's own series at scrape time, so the request path never touches prom-client.
import { Counter, Gauge, Registry, type MetricValueWithName } from 'prom-client'
import type { RoutingTable } from '../gateway/routing-table.js'
import type { Stage } from '../store/tables.js'
import type { RequestMetrics } from './request-metrics.js'
import { PROM_BOUNDS, STATUS_CLASSES } from './series.js'

const STAGES: readonly Stage[] = ['pending', 'shadow', 'canary', 'promoted', 'completed', 'rolled-back']

/** Results counted in tandem_shadow_total by the gateway; the comparison engine adds its own results. */
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

export interface TandemPrometheus {
  readonly registry: Registry
  /** `tandem_shadow_total{system,result}`: the comparison engine increments it with its results. */
  readonly shadowTotal: Counter<'system' | 'result'>
  /** Cheap count of a shadow outcome from the request path; flushed into shadowTotal at scrape time. */
  countShadow(system: string, result: ShadowResult): void
  expose(): Promise<{ contentType: string; body: string }>
}

export function createPrometheus(options: { metrics: RequestMetrics; routing: RoutingTable; systems: () => readonly string[] }): TandemPrometheus {
  const { metrics, routing, systems } = options
  const registry = new Registry()
  // Pending shadow counts per "system\0result", added to the counter (never reset: others add too).
  const pending = new Map<string, number>()

  const shadowTotal = new Counter({
    name: 'tandem_shadow_total',
    help: 'Requests that could have been mirrored, by result: mirrored, a skip reason, or a comparison result',
    labelNames: ['system', 'result'] as const,
    registers: [registry],
    collect() {
      for (const [key, n] of pending) {
        const [system, result] = key.split('\0') as [string, string]
        this.inc({ system, result }, n)
      }
      pending.clear()
    },
  })

  new Counter({
    name: 'tandem_requests_total',
    help: 'Upstream calls per system, route template, arm and status class (error = transport failure)',
    labelNames: ['system', 'route', 'arm', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const s of metrics.all()) {
        s.statusCounts.forEach((n, i) => {
          if (n > 0) this.inc({ system: s.system, route: s.route, arm: s.arm, status: STATUS_CLASSES[i]! }, n)
        })
      }
    },
  })

  registry.registerMetric(durationHistogram(metrics) as never)

  new Gauge({
    name: 'tandem_rollout_weight',
    help: 'Percent of sticky buckets routed to the candidate (canary weight)',
    labelNames: ['system'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const system of systems()) this.set({ system }, routing.get(system).weight)
    },
  })

  new Gauge({
    name: 'tandem_stage',
    help: 'Rollout stage of each system: 1 for the current stage, 0 for the others',
    labelNames: ['system', 'stage'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const system of systems()) {
        const current = routing.get(system).stage
        for (const stage of STAGES) this.set({ system, stage }, stage === current ? 1 : 0)
      }
    },
  })

  return {
    registry,
    shadowTotal,
    countShadow(system, result) {
      const key = `${system}\0${result}`
      pending.set(key, (pending.get(key) ?? 0) + 1)
    },
    async expose() {
      return { contentType: registry.contentType, body: await registry.metrics() }
    },
  }
}

/** `tandem_request_duration_seconds` as a prom-client metric object built from the series buckets. */
function durationHistogram(metrics: RequestMetrics) {
  const name = 'tandem_request_duration_seconds'
  return {
    name,
    help: 'Upstream call latency per system, route template and arm',
    type: 'histogram',
    aggregator: 'sum',
    reset() {},
    async get() {
      const values: MetricValueWithName<string>[] = []
      for (const s of metrics.all()) {
        if (s.promCount === 0) continue
        const labels = { system: s.system, route: s.route, arm: s.arm }
        let cumulative = 0
        PROM_BOUNDS.forEach((le, i) => {
          cumulative += s.promBuckets[i]!
          values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative })
        })
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: s.promCount })
        values.push({ metricName: `${name}_sum`, labels, value: s.promSum })
        values.push({ metricName: `${name}_count`, labels, value: s.promCount })
      }
      return { name, help: this.help, type: 'histogram', aggregator: 'sum', values }
    },
  }
}
