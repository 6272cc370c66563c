// The engines `tandem up` plugs into the instance: the comparison engine (src/compare/) and the
// rollout controller (src/rollout/). Tests may start an instance without them.
import { ComparisonEngine } from '../compare/engine.js'
import { RolloutController } from '../rollout/controller.js'
import type { ComparisonPlugin, ControlPlugin, InstanceContext, InstanceOptions } from './start-instance.js'

export function comparisonEngine(ctx: InstanceContext): ComparisonPlugin {
  return new ComparisonEngine({ config: ctx.config(), store: ctx.store, shadowTotal: ctx.prometheus.shadowTotal })
}

export function rolloutController(ctx: InstanceContext): ControlPlugin {
  const controller = new RolloutController({
    config: ctx.config,
    store: ctx.store,
    routing: ctx.routing,
    // The lease holder judges every instance's traffic, merged from the store (SPEC 11).
    metrics: ctx.merged,
    ...(ctx.comparisons ? { comparisons: ctx.merged } : {}),
  })
  controller.on('error', (system, error) => ctx.logger.error({ system, err: error }, 'rollout controller error'))
  return controller
}

/** Both engines, as `tandem up` runs them. */
export const fullEngines: Pick<InstanceOptions, 'comparisons' | 'control'> = { comparisons: comparisonEngine, control: rolloutController }
