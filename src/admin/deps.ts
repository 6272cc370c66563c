// What the admin server needs from a running instance; `tandem up` supplies it.
import type { ConfigIssue } from '../config/load.js'
import type { Config } from '../config/schema.js'
import type { ComparisonReader } from '../compare/sink.js'
import type { RoutingTable } from '../domain/routing-table.js'
import type { MetricsReader } from '../metrics/reader.js'
import type { RequestMetrics } from '../metrics/request-metrics.js'
import type { RolloutControl } from '../rollout/control.js'
import type { Store } from '../store/open.js'

export interface AdminDeps {
  /** The configuration in force (it changes on reload). */
  config(): Config
  readonly store: Store
  readonly routing: RoutingTable
  /** Every instance's metrics, merged (what analysis judges). */
  readonly metrics: MetricsReader
  /** This process's own live metrics, where adapters' observations are recorded (SPEC 12). */
  readonly localMetrics?: RequestMetrics
  readonly comparisons?: ComparisonReader
  readonly control?: RolloutControl
  /** Prometheus exposition of every tandem_* metric. */
  prometheus(): Promise<{ contentType: string; body: string }>
  /** Re-read tandem.yaml; an invalid file is rejected and the running config stays. */
  reload(actor: string): Promise<{ ok: true } | { ok: false; errors: readonly ConfigIssue[] }>
}
