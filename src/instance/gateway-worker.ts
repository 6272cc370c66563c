// A gateway worker of `tandem up --workers N`: serves the shared gateway listener (node:cluster) and
// never opens the store; it reports every call, shadow result and exchange to the primary over IPC.
import type { AddressInfo } from 'node:net'
import type { Exchange } from '../compare/sink.js'
import { channels, type CallMessage, type ShadowMessage, type ShadowResult } from '../gateway/diagnostics.js'
import { Gateway } from '../gateway/gateway.js'
import { RoutingTable } from '../domain/routing-table.js'
import { createLogger } from './logger.js'
import { REPORT_INTERVAL_MS, REPORT_MAX_CALLS } from './worker-messages.js'
import type { CallRecord, FromWorker, ToWorker } from './worker-messages.js'

function send(message: FromWorker, done?: () => void): void {
  if (process.connected) process.send!(message, undefined, undefined, done)
  else done?.()
}

/** Run this process as a gateway worker until the primary says shutdown or goes away. */
export async function runGatewayWorker(): Promise<void> {
  const init = await new Promise<Extract<ToWorker, { type: 'init' }>>((resolve) => {
    const first = (m: ToWorker) => {
      // Told to stop before it served anything (the primary is shutting down): nothing to drain.
      if (m.type === 'shutdown') process.exit(0)
      if (m.type !== 'init') return
      process.off('message', first)
      resolve(m)
    }
    process.on('message', first)
    send({ type: 'ready' })
  })
  const routing = new RoutingTable()
  for (const [system, r] of Object.entries(init.routing)) routing.set(system, r)

  let calls: CallRecord[] = []
  let shadows: Array<readonly [string, ShadowResult]> = []
  let exchanges: Exchange[] = []
  const flush = (done?: () => void) => {
    if (calls.length + shadows.length + exchanges.length === 0) return done?.()
    send({ type: 'report', calls, shadows, exchanges }, done)
    calls = []
    shadows = []
    exchanges = []
  }
  // What the gateway logs (gRPC types asked of legacy) goes to stderr, which the worker shares with the primary.
  const log = createLogger()
  const gateway = new Gateway({ routing, sink: { submit: (e) => void exchanges.push(e) }, log })
  const record = (kind: CallRecord[0]) => (message: unknown) => {
    const m = message as CallMessage
    if (m.gateway !== gateway) return
    calls.push([kind, m.system, m.route, m.arm, m.status, m.durationMs, m.at])
    if (calls.length >= REPORT_MAX_CALLS) flush()
  }
  const onShadow = (message: unknown) => {
    const m = message as ShadowMessage
    if (m.gateway === gateway) shadows.push([m.system, m.result])
  }
  channels.request.subscribe(record('request'))
  channels.mirror.subscribe(record('mirror'))
  channels.shadow.subscribe(onShadow)
  const timer = setInterval(() => flush(), REPORT_INTERVAL_MS)

  let stopping = false
  const stop = async (drainMs: number) => {
    if (stopping) return
    stopping = true
    await gateway.close(drainMs).catch(() => {})
    clearInterval(timer)
    flush(() => process.exit(0))
  }
  process.on('message', (m: ToWorker) => {
    if (m.type === 'routing') {
      routing.set(m.system, m.routing)
      send({ type: 'routed', system: m.system, sentAt: m.sentAt })
    } else if (m.type === 'config') void gateway.apply(m.config)
    else if (m.type === 'shutdown') void stop(m.drainMs)
  })
  // The primary drains the workers itself: a terminal's Ctrl-C reaches the whole group, so wait for it.
  process.on('SIGINT', () => {})
  process.on('SIGTERM', () => void stop(30_000))
  process.on('SIGHUP', () => {})
  // Orphaned (the primary died): stop serving rather than run unobserved.
  process.on('disconnect', () => void stop(5_000))

  await gateway.apply(init.config)
  try {
    const address = (await gateway.listen(init.listen, init.config.gateway.maxHeaderSize)) as AddressInfo
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    send({ type: 'listening', url: `http://${host}:${address.port}` })
  } catch (error) {
    send({ type: 'error', message: (error as Error).message }, () => process.exit(2))
  }
}
