// The flag side of one instance: the evaluator, the clients that follow flags and where observations
// go, derived once per admin deps (the request metrics and comparison engine of the instance).
import type { AdminDeps } from '../admin/deps.js'
import type { ComparisonSink } from '../compare/sink.js'
import { RequestMetrics } from '../metrics/request-metrics.js'
import { FlagClients } from './clients.js'
import { FlagEvaluator } from './evaluate.js'
import { CODE_ROUTE, type ObservationSink } from './observations.js'

export interface FlagsRuntime {
  readonly evaluator: FlagEvaluator
  readonly clients: FlagClients
  /** Undefined when the instance keeps no request metrics it can record into. */
  readonly sink: ObservationSink | undefined
}

const runtimes = new WeakMap<AdminDeps, FlagsRuntime>()

/** The flags runtime of these deps (made on first use, so the server and the read models share it). */
export function flagsOf(deps: AdminDeps): FlagsRuntime {
  let runtime = runtimes.get(deps)
  if (runtime === undefined) {
    runtime = {
      evaluator: new FlagEvaluator(deps.config, (system) => deps.routing.get(system)),
      clients: new FlagClients(),
      sink: metricsSink(deps),
    }
    runtimes.set(deps, runtime)
  }
  return runtime
}

function metricsSink(deps: AdminDeps): ObservationSink | undefined {
  const metrics = deps.localMetrics ?? deps.metrics
  if (!(metrics instanceof RequestMetrics)) return undefined
  // The instance's comparison engine is both reader and sink; a reader alone takes no exchanges.
  const engine = deps.comparisons as Partial<ComparisonSink> | undefined
  const comparisons = typeof engine?.submit === 'function' ? (engine as ComparisonSink) : undefined
  return {
    record: (system, arm, error, ms, at) => metrics.route(system, CODE_ROUTE)[arm].record(error ? 500 : 200, ms, at),
    ...(comparisons === undefined ? {} : { comparisons }),
  }
}
