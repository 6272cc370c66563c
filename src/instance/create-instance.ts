// The one composition root: config, store, routing table, metrics, comparison engine, rollout controller,
// gateway listener and admin listener in one process, with hot reload and graceful shutdown. `tandem up`,
// `tandem demo` and the tests build their instance here; the clock and the store may be injected.
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { createAdminServer, type AdminServerOptions } from '../admin/server.js'
import type { AdminDeps } from '../admin/deps.js'
import type { ComparisonResult } from '../compare/compare-exchange.js'
import { ComparisonEngine } from '../compare/engine.js'
import type { ComparisonReader, ComparisonSink } from '../compare/sink.js'
import { formatIssue, loadConfig, type ConfigIssue } from '../config/load.js'
import { loadConfigOffThread } from '../config/load-off-thread.js'
import type { Config } from '../config/schema.js'
import { isTandemError, TandemError } from '../errors.js'
import { CountingSink } from '../gateway/counting-sink.js'
import { Gateway, splitListen } from '../gateway/gateway.js'
import { RoutingTable } from '../domain/routing-table.js'
import { subscribeToGateway } from '../metrics/gateway-subscriber.js'
import { MergedMetrics } from '../metrics/merged-metrics.js'
import { MetricsWriter } from '../metrics/metrics-writer.js'
import { createPrometheus } from '../metrics/prometheus.js'
import { RequestMetrics } from '../metrics/request-metrics.js'
import { RolloutController, type ControllerOptions } from '../rollout/controller.js'
import { lockStoreFile } from '../store/file-lock.js'
import { openStore, sqliteFile, type Store } from '../store/open.js'
import { listStates } from '../store/system-state.js'
import { newInstanceId } from './instance-id.js'
import { createLogger } from './logger.js'

/** The comparison engine, or the counting sink that stands in for it when it is turned off. */
export interface ComparisonPlugin extends ComparisonSink, Partial<ComparisonReader> {
  /** Every classified exchange, for the metrics written to the store. */
  onRecord?(listener: (r: { system: string; route: string; at: number; result: ComparisonResult }) => void): () => void
  start?(): Promise<void>
  reload?(config: Config): void
  close?(): Promise<void>
}

/** What the rollout controller may be told beyond what the instance gives every part. */
export type ControllerSettings = Pick<ControllerOptions, 'failuresDir' | 'healthChecks' | 'startGate' | 'lease'>

export interface InstanceOptions {
  /** tandem.yaml; a reload re-reads it. */
  readonly configFile?: string
  /** A parsed configuration instead of a file (then a reload keeps it). One of the two is required. */
  readonly config?: Config
  /** An open store to use instead of the config's `store:`; the caller keeps it (not locked, not closed). */
  readonly store?: Store
  /** The controller's clock (decisions, hooks, windows); default Date.now. */
  readonly now?: () => number
  /** The gateway's request metrics, read by analysis and the admin API; default a new RequestMetrics. */
  readonly metrics?: RequestMetrics
  /** Run the comparison engine (default true); false counts exchanges only (gateway tests). */
  readonly comparisons?: boolean | { readonly flushIntervalMs?: number }
  /** Run the rollout controller (default true; `tandem up --no-controller` serves stored states only). */
  readonly controller?: boolean | ControllerSettings
  /** Override the listen addresses (tests use 127.0.0.1:0). */
  readonly gatewayListen?: string
  readonly adminListen?: string
  readonly logger?: Logger
  /** Drain limit of a graceful shutdown. */
  readonly drainMs?: number
  /**
   * Take the lock beside a SQLite store (default true). The primary process of `tandem up` holds it;
   * its workers (a later `--workers`) share the file under that lock and pass false.
   */
  readonly lockStore?: boolean
  /** Passed to createAdminServer (e.g. `dashboard: false` for a headless gateway). */
  readonly admin?: AdminServerOptions
  /**
   * Listen on the gateway address (default true). The primary of `tandem up --workers N` passes false:
   * its workers serve the listener and report to this instance's gateway channels (instance/workers.ts).
   */
  readonly serveGateway?: boolean
  /** Called with each configuration a reload applied (the primary pushes it to its workers). */
  readonly onReload?: (config: Config) => void
}

export interface Instance {
  readonly gatewayUrl: string
  readonly adminUrl: string
  readonly store: Store
  readonly routing: RoutingTable
  /** The gateway; its diagnostics channels feed `metrics` (workers' reports are published on them too). */
  readonly gateway: Gateway
  readonly metrics: RequestMetrics
  /** This process among the instances on the store (hostname:pid:random). */
  readonly instanceId: string
  /** Writes this instance's metrics to the store every second. */
  readonly metricsWriter: MetricsWriter
  /** Every instance's metrics and comparison counts, merged: what analysis judges (SPEC 11). */
  readonly merged: MergedMetrics
  readonly comparisons: ComparisonPlugin
  /** The rollout controller, unless it was turned off. */
  readonly controller: RolloutController | undefined
  /** What the admin API serves from, and its server. */
  readonly deps: AdminDeps
  readonly admin: FastifyInstance
  config(): Config
  reload(actor: string): Promise<{ ok: true } | { ok: false; errors: readonly ConfigIssue[] }>
  close(): Promise<void>
}

export async function createInstance(options: InstanceOptions): Promise<Instance> {
  const logger = options.logger ?? createLogger()
  const file = options.configFile
  if (file === undefined && options.config === undefined) throw new TypeError('createInstance: configFile or config')
  let config = options.config ?? (await loadConfig(file!))
  const cleanup: Array<() => Promise<void>> = []
  try {
    const store = options.store ?? (await openOwnStore(config, options.lockStore !== false, cleanup))
    const routing = new RoutingTable()
    // Rollout state lives in the store: a restart serves exactly what was decided before it.
    for (const s of await listStates(store)) {
      routing.set(s.system, { stage: s.stage, weight: s.weight, activeArm: s.activeArm, paused: s.paused })
    }

    const metrics = options.metrics ?? new RequestMetrics()
    const instance = newInstanceId()
    // Every second this instance's metrics go to the store, where every instance's are read merged.
    const writer = new MetricsWriter({
      store,
      instance,
      metrics,
      retentionMs: () => config.metrics.retention,
      onError: (err: unknown) => logger.warn({ err }, 'metrics not written to the store; retried next second'),
    })
    // Registered right after the store: closed after the gateway drained and the comparisons settled
    // (cleanup runs in reverse), before the store closes.
    cleanup.push(() => writer.close())
    const gateway = new Gateway({ routing, sink: { submit: (e) => comparisons.submit(e) }, log: logger })
    const prometheus = createPrometheus({ metrics, routing, systems: () => gateway.systems, instance })
    // Metrics and shadow counts follow the gateway's diagnostics channels (subscribed before the first plan).
    const unsubscribe = subscribeToGateway(gateway, metrics, prometheus)
    cleanup.push(async () => unsubscribe())
    const compare = options.comparisons ?? true
    const comparisons: ComparisonPlugin =
      compare === false
        ? new CountingSink()
        : new ComparisonEngine({
            config,
            store,
            shadowTotal: prometheus.shadowTotal,
            ...(compare === true ? {} : compare),
          })
    comparisons.onRecord?.((r) => writer.recordComparison(r))
    await comparisons.start?.()
    cleanup.push(async () => comparisons.close?.())
    const reader = typeof comparisons.counts === 'function' ? (comparisons as ComparisonReader) : undefined
    const merged = new MergedMetrics({ store, instance, local: metrics, localComparisons: () => reader })

    const settings = options.controller ?? true
    const controller =
      settings === false
        ? undefined
        : new RolloutController({
            config: () => config,
            store,
            routing,
            // The lease holder judges every instance's traffic, merged from the store (SPEC 11).
            metrics: merged,
            ...(reader ? { comparisons: merged } : {}),
            ...(options.now ? { now: options.now } : {}),
            ...(settings === true ? {} : settings),
          })
    controller?.on('error', (system, error) => logger.error({ system, err: error }, 'rollout controller error'))

    await gateway.apply(config)
    writer.start()
    const gatewayListen = options.gatewayListen ?? config.gateway.listen
    const serve = options.serveGateway !== false
    const gatewayAddress = serve ? await gateway.listen(gatewayListen, config.gateway.maxHeaderSize) : undefined
    cleanup.push(() => gateway.close(options.drainMs ?? 30_000))

    const reload = async (actor: string): Promise<{ ok: true } | { ok: false; errors: readonly ConfigIssue[] }> => {
      if (file === undefined) return { ok: true }
      let next: Config
      try {
        // In a worker: a huge or hostile file must not stall the listeners while it is validated.
        next = await loadConfigOffThread(file)
      } catch (error) {
        const errors = issuesOf(error, file)
        logger.error({ actor, errors: errors.map(formatIssue) }, 'reload rejected: the running configuration stays')
        return { ok: false, errors }
      }
      const fixed = next.gateway.listen !== config.gateway.listen || next.admin.listen !== config.admin.listen
      if (fixed || next.store !== config.store) {
        const message = 'listen addresses and the store change only on restart'
        logger.warn({ actor }, `${message}; the rest of the new configuration is applied`)
      }
      try {
        // Files the gateway reads (gateway.tls) are checked here: a bad one keeps the running config.
        await gateway.apply(next)
      } catch (error) {
        if (!isTandemError(error)) throw error
        const errors = issuesOf(error, file)
        logger.error({ actor, errors: errors.map(formatIssue) }, 'reload rejected: the running configuration stays')
        return { ok: false, errors }
      }
      comparisons.reload?.(next)
      config = next
      options.onReload?.(next)
      logger.info({ actor, systems: next.systems.length }, 'configuration reloaded')
      return { ok: true }
    }

    const deps: AdminDeps = {
      config: () => config,
      store,
      routing,
      metrics: merged,
      localMetrics: metrics,
      ...(reader ? { comparisons: reader } : {}),
      ...(controller ? { control: controller } : {}),
      prometheus: () => prometheus.expose(),
      reload,
    }
    const admin = createAdminServer(deps, { logger, ...options.admin })
    const adminListen = splitListen(options.adminListen ?? config.admin.listen)
    try {
      await admin.listen({ host: adminListen.host, port: adminListen.port })
    } catch (error) {
      if (isTandemError(error)) throw error
      const address = options.adminListen ?? config.admin.listen
      throw new TandemError('TANDEM_ERR_LISTEN', { address, detail: (error as Error).message }, { cause: error })
    }
    cleanup.push(() => admin.close())
    await controller?.start()
    cleanup.push(async () => controller?.stop())
    const adminAddress = admin.server.address() as AddressInfo

    let closing: Promise<void> | null = null
    return {
      gatewayUrl: gatewayAddress ? urlOf(gatewayAddress) : '',
      adminUrl: urlOf(adminAddress),
      store,
      routing,
      gateway,
      metrics,
      instanceId: instance,
      metricsWriter: writer,
      merged,
      comparisons,
      controller,
      deps,
      admin,
      config: () => config,
      reload,
      close: () => (closing ??= runCleanup(cleanup)),
    }
  } catch (error) {
    await runCleanup(cleanup)
    throw error
  }
}

/** Open the config's store; one `tandem up` per SQLite file, as a second would run the controller too (SPEC 11). */
async function openOwnStore(config: Config, lock: boolean, cleanup: Array<() => Promise<void>>): Promise<Store> {
  const lockedFile = lock ? sqliteFile(config.store) : undefined
  const held = lockedFile === undefined ? undefined : lockStoreFile(lockedFile)
  cleanup.push(async () => held?.release())
  const store = await openStore(config.store)
  cleanup.push(() => store.close())
  return store
}

/** Undo in reverse order of setup; later steps run even if one fails. */
async function runCleanup(cleanup: Array<() => Promise<void>>): Promise<void> {
  for (const step of [...cleanup].reverse()) await step().catch(() => {})
}

function urlOf(a: AddressInfo): string {
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
}

function issuesOf(error: unknown, file: string): ConfigIssue[] {
  if (isTandemError(error) && Array.isArray(error.details)) return error.details as ConfigIssue[]
  const code = isTandemError(error) ? error.code : 'TANDEM_ERR_CONFIG_INVALID'
  return [{ code, message: (error as Error).message, file, line: 1, column: 1, path: '' }]
}
