// Feeds the request metrics and the shadow counts from the gateway's diagnostics channels, so the
// request path never calls into metrics (and gateway/ never imports metrics/).
import { channels, type CallMessage, type PlanMessage, type ShadowMessage } from '../gateway/diagnostics.js'
import type { RequestMetrics } from './request-metrics.js'
import type { ShadowCounter } from './prometheus.js'

/** Record what `gateway` publishes into `metrics` and `shadows` until the returned function is called. */
export function subscribeToGateway(gateway: object, metrics: RequestMetrics, shadows: ShadowCounter): () => void {
  const onPlan = (message: unknown) => {
    const m = message as PlanMessage
    // A series for every configured route, in config order, before its first request.
    if (m.gateway === gateway) for (const r of m.routes) metrics.route(r.system, r.route)
  }
  const onCall = (message: unknown) => {
    const m = message as CallMessage
    if (m.gateway === gateway) metrics.route(m.system, m.route)[m.arm].record(m.status, m.durationMs, m.at)
  }
  const onShadow = (message: unknown) => {
    const m = message as ShadowMessage
    if (m.gateway === gateway) shadows.countShadow(m.system, m.result)
  }
  channels.plan.subscribe(onPlan)
  channels.request.subscribe(onCall)
  channels.mirror.subscribe(onCall)
  channels.shadow.subscribe(onShadow)
  return () => {
    channels.plan.unsubscribe(onPlan)
    channels.request.unsubscribe(onCall)
    channels.mirror.unsubscribe(onCall)
    channels.shadow.unsubscribe(onShadow)
  }
}
