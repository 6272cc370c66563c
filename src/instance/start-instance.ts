// The composition root of `tandem up`: config, store, routing table, metrics, comparison sink,
// gateway listener and admin listener in one process, with hot reload and graceful shutdown.
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { createAdminServer, type AdminServerOptions } from '../admin/server.js'
import type { AdminDeps } from '../admin/deps.js'
import type { ComparisonReader, ComparisonSink } from '../compare/sink.js'
import { formatIssue, loadConfig, type ConfigIssue } from '../config/load.js'
import { loadConfigOffThread } from '../config/load-off-thread.js'
import type { Config } from '../config/schema.js'
import { isTandemError, TandemError } from '../errors.js'
import { CountingSink } from '../gateway/counting-sink.js'
import { Gateway, splitListen } from '../gateway/gateway.js'
import { RoutingTable } from '../gateway/routing-table.js'
import { createPrometheus, type TandemPrometheus } from '../metrics/prometheus.js'
import { RequestMetrics } from '../metrics/request-metrics.js'
import type { RolloutControl } from '../rollout/control.js'
import { lockStoreFile } from '../store/file-lock.js'
import { openStore, sqliteFile, type Store } from '../store/open.js'
import { listStates } from '../store/system-state.js'
import { createLogger } from './logger.js'

/** What the pluggable engines get to build themselves from. */
export interface InstanceContext {
  config(): Config
  readonly store: Store
  readonly routing: RoutingTable
  readonly metrics: RequestMetrics
  readonly prometheus: TandemPrometheus
  readonly comparisons?: ComparisonReader
  readonly logger: Logger
}

/** The comparison engine (src/compare/) plugs in here; without one, exchanges are only counted. */
export interface ComparisonPlugin extends ComparisonSink, Partial<ComparisonReader> {
  start?(): Promise<void>
  reload?(config: Config): void
  close?(): Promise<void>
}

/** The rollout controller (src/rollout/) plugs in here; without one, the stored states are only served. */
export interface ControlPlugin extends RolloutControl {
  start?(): Promise<void>
  stop?(): Promise<void>
}

export interface InstanceOptions {
  readonly configFile: string
  readonly comparisons?: (ctx: InstanceContext) => ComparisonPlugin
  readonly control?: (ctx: InstanceContext) => ControlPlugin
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
}

export interface Instance {
  readonly gatewayUrl: string
  readonly adminUrl: string
  readonly store: Store
  readonly routing: RoutingTable
  readonly metrics: RequestMetrics
  readonly comparisons: ComparisonPlugin
  config(): Config
  reload(actor: string): Promise<{ ok: true } | { ok: false; errors: readonly ConfigIssue[] }>
  close(): Promise<void>
}

export async function startInstance(options: InstanceOptions): Promise<Instance> {
  const logger = options.logger ?? createLogger()
  let config = await loadConfig(options.configFile)
  // One `tandem up` per SQLite file: a second would run the controller too (SPEC 11).
  const lockedFile = options.lockStore === false ? undefined : sqliteFile(config.store)
  const lock = lockedFile === undefined ? undefined : lockStoreFile(lockedFile)
  let store: Store
  try {
    store = await openStore(config.store)
  } catch (error) {
    lock?.release()
    throw error
  }
  const cleanup: Array<() => Promise<void>> = [async () => lock?.release(), () => store.close()]
  try {
    const routing = new RoutingTable()
    // Rollout state lives in the store: a restart serves exactly what was decided before it.
    for (const s of await listStates(store)) routing.set(s.system, { stage: s.stage, weight: s.weight, activeArm: s.activeArm, paused: s.paused })

    const metrics = new RequestMetrics()
    const gateway = new Gateway({ routing, metrics, sink: { submit: (e) => comparisons.submit(e) }, countShadow: (s, r) => prometheus.countShadow(s, r) })
    const prometheus = createPrometheus({ metrics, routing, systems: () => gateway.systems })
    const base = { config: () => config, store, routing, metrics, prometheus, logger }
    // --- comparison engine: supplied by src/compare/ through options.comparisons ---------------------
    const comparisons: ComparisonPlugin = options.comparisons?.(base) ?? new CountingSink()
    await comparisons.start?.()
    cleanup.push(async () => comparisons.close?.())
    const reader = typeof comparisons.counts === 'function' ? (comparisons as ComparisonReader) : undefined
    // --- rollout control: supplied by src/rollout/ through options.control -----------------------------
    const control = options.control?.({ ...base, ...(reader ? { comparisons: reader } : {}) })

    await gateway.apply(config)
    const gatewayAddress = await gateway.listen(options.gatewayListen ?? config.gateway.listen, config.gateway.maxHeaderSize)
    cleanup.push(() => gateway.close(options.drainMs ?? 30_000))

    const reload = async (actor: string): Promise<{ ok: true } | { ok: false; errors: readonly ConfigIssue[] }> => {
      let next: Config
      try {
        // In a worker: a huge or hostile file must not stall the listeners while it is validated.
        next = await loadConfigOffThread(options.configFile)
      } catch (error) {
        const errors = issuesOf(error, options.configFile)
        logger.error({ actor, errors: errors.map(formatIssue) }, 'reload rejected: the running configuration stays')
        return { ok: false, errors }
      }
      if (next.gateway.listen !== config.gateway.listen || next.admin.listen !== config.admin.listen || next.store !== config.store) {
        logger.warn({ actor }, 'listen addresses and the store change only on restart; the rest of the new configuration is applied')
      }
      try {
        // Files the gateway reads (gateway.tls) are checked here: a bad one keeps the running config.
        await gateway.apply(next)
      } catch (error) {
        if (!isTandemError(error)) throw error
        const errors = issuesOf(error, options.configFile)
        logger.error({ actor, errors: errors.map(formatIssue) }, 'reload rejected: the running configuration stays')
        return { ok: false, errors }
      }
      comparisons.reload?.(next)
      config = next
      logger.info({ actor, systems: next.systems.length }, 'configuration reloaded')
      return { ok: true }
    }

    const deps: AdminDeps = {
      config: () => config,
      store,
      routing,
      metrics,
      ...(reader ? { comparisons: reader } : {}),
      ...(control ? { control } : {}),
      prometheus: () => prometheus.expose(),
      reload,
    }
    const admin = createAdminServer(deps, { logger, ...options.admin })
    const adminListen = splitListen(options.adminListen ?? config.admin.listen)
    try {
      await admin.listen({ host: adminListen.host, port: adminListen.port })
    } catch (error) {
      if (isTandemError(error)) throw error
      throw new TandemError('TANDEM_ERR_LISTEN', { address: options.adminListen ?? config.admin.listen, detail: (error as Error).message }, { cause: error })
    }
    cleanup.push(() => admin.close())
    await control?.start?.()
    cleanup.push(async () => control?.stop?.())
    const adminAddress = admin.server.address() as AddressInfo

    let closing: Promise<void> | null = null
    return {
      gatewayUrl: urlOf(gatewayAddress),
      adminUrl: urlOf(adminAddress),
      store,
      routing,
      metrics,
      comparisons,
      config: () => config,
      reload,
      close: () => (closing ??= runCleanup(cleanup)),
    }
  } catch (error) {
    await runCleanup(cleanup)
    throw error
  }
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
