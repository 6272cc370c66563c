// `tandem up --workers N`: the primary forks N gateway workers (node:cluster) that share the gateway
// listener, pushes routing and config changes to them, replays their reports into its own instance
// (one store, one controller, metrics counted once) and restarts a worker that dies.
import cluster, { type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import type { Logger } from 'pino'
import { channels, publishShadow } from '../gateway/diagnostics.js'
import type { Config } from '../config/schema.js'
import { TandemError } from '../errors.js'
import type { Instance } from './create-instance.js'
import type { FromWorker, ToWorker } from './worker-messages.js'

/** Set in a worker's environment; `tandem up` then runs as a gateway worker. */
export const WORKER_ENV = 'TANDEM_GATEWAY_WORKER'

export interface WorkerPool {
  readonly gatewayUrl: string
  readonly size: number
  /** Send a configuration a reload applied to every worker (they apply it to their gateway). */
  reload(config: Config): void
  /** Tell every worker to drain, wait for all to exit (killing stragglers after the drain limit). */
  stop(drainMs: number): Promise<void>
}

/** `--workers`: a positive integer, or `auto` for one per core. */
export function parseWorkers(value: string): number {
  if (value === 'auto') return availableParallelism()
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    const detail = `--workers takes a whole number from 1 or "auto", not "${value}"`
    throw new TandemError('TANDEM_ERR_USAGE', { detail })
  }
  return n
}

export function isGatewayWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === '1'
}

export async function startWorkers(
  instance: Instance,
  count: number,
  listen: string,
  logger: Logger,
): Promise<WorkerPool> {
  cluster.setupPrimary({ serialization: 'advanced', silent: false })
  const workers = new Set<Worker>()
  let stopping = false
  const broadcast = (message: ToWorker) => {
    for (const w of workers) if (w.isConnected()) w.send(message)
  }
  const pending = new Map<number, { waiting: number; started: number }>()
  let nextChange = 0
  let restartDelay = 100

  const onReport = (m: Extract<FromWorker, { type: 'report' }>) => {
    const gateway = instance.gateway
    // Stamped with the primary's clock as it records: series take seconds in order, and two workers'
    // batches interleave (a call lands at most one report interval later than it ended).
    const at = Date.now()
    for (const [kind, system, route, arm, status, durationMs] of m.calls) {
      const channel = kind === 'request' ? channels.request : channels.mirror
      if (channel.hasSubscribers) channel.publish({ gateway, system, route, arm, status, durationMs, at })
    }
    for (const [system, result] of m.shadows) publishShadow(gateway, system, result)
    for (const exchange of m.exchanges) instance.comparisons.submit(exchange)
  }

  const fork = (onListening?: (url: string) => void, onFailed?: (message: string) => void) => {
    const worker = cluster.fork({ [WORKER_ENV]: '1' })
    const bornAt = Date.now()
    workers.add(worker)
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        const init: ToWorker = { type: 'init', config: instance.config(), routing: instance.routing.snapshot(), listen }
        worker.send(init)
      } else if (m.type === 'report') onReport(m)
      else if (m.type === 'listening') onListening?.(m.url)
      else if (m.type === 'error') onFailed?.(m.message)
      else if (m.type === 'routed') {
        const change = pending.get(m.sentAt)
        if (change !== undefined && --change.waiting === 0) {
          pending.delete(m.sentAt)
          const ms = Date.now() - change.started
          logger.info({ system: m.system, ms, workers: workers.size }, 'routing change reached every gateway worker')
        }
      }
    })
    worker.on('exit', (code, signal) => {
      workers.delete(worker)
      if (stopping) return
      onFailed?.(`worker exited with ${signal ?? code} before listening`)
      // A worker that keeps dying young is restarted ever more slowly (200 ms doubling up to 10 s).
      restartDelay = Date.now() - bornAt < 5_000 ? Math.min(restartDelay * 2, 10_000) : 200
      const pid = worker.process.pid
      logger.error({ worker: pid, code, signal, restartInMs: restartDelay }, 'gateway worker died; starting a new one')
      setTimeout(() => {
        if (!stopping) fork()
      }, restartDelay).unref()
    })
    return worker
  }

  instance.routing.on('change', (system, routing) => {
    if (workers.size === 0) return
    const id = ++nextChange
    pending.set(id, { waiting: workers.size, started: Date.now() })
    broadcast({ type: 'routing', system, routing, sentAt: id })
  })

  const started = Array.from({ length: count }, () => {
    return new Promise<string>((resolve, reject) => {
      fork(resolve, (message) => reject(new TandemError('TANDEM_ERR_LISTEN', { address: listen, detail: message })))
    })
  })
  let gatewayUrl: string
  try {
    const urls = await Promise.all(started)
    gatewayUrl = urls[0]!
  } catch (error) {
    stopping = true
    for (const w of workers) w.process.kill('SIGKILL')
    throw error
  }

  return {
    gatewayUrl,
    size: count,
    reload: (config) => broadcast({ type: 'config', config }),
    async stop(drainMs: number) {
      stopping = true
      const exits = [...workers].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.process.exitCode !== null || w.process.signalCode !== null) return resolve()
            w.once('exit', () => resolve())
            const kill = setTimeout(() => w.process.kill('SIGKILL'), drainMs + 5_000)
            w.once('exit', () => clearTimeout(kill))
            if (w.isConnected()) w.send({ type: 'shutdown', drainMs } satisfies ToWorker)
            else w.process.kill('SIGTERM')
          }),
      )
      await Promise.all(exits)
    },
  }
}
