// The test kit's in-process instance: the one composition root `tandem up` runs (createInstance), on
// loopback port 0 with a temporary directory, optionally with the comparison engine and the rollout
// controller. What a test leaves open is closed when the test file ends.
import { join } from 'node:path'
import pino from 'pino'
import { afterAll } from 'vitest'
import {
  createInstance,
  type ControllerSettings,
  type Instance,
  type InstanceOptions,
} from '../../src/instance/create-instance.js'
import type { RolloutController } from '../../src/rollout/controller.js'
import type { Config } from '../../src/config/schema.js'
import type { RoutingTable } from '../../src/domain/routing-table.js'
import type { Store } from '../../src/store/open.js'
import { listDecisions } from '../../src/store/system-state.js'
import { tandemConfig, writeConfig, type ConfigInput, type ConfigOptions } from './config.js'
import { startService, type Behaviour, type Service } from './loopback.js'
import { temporaryDir } from './temp-dir.js'

export interface InstanceKitOptions {
  /** Where tandem.yaml, the store and failure reports go (default a temporary directory). */
  readonly dir?: string
  /** Run the rollout controller (with these options; failure reports in `dir`/failures). */
  readonly controller?: Partial<ControllerSettings>
  /** Run the comparison engine (default: exchanges are only counted). */
  readonly comparisons?: { readonly flushIntervalMs?: number }
  /** Serve the dashboard (default false: building it is not what most tests are about). */
  readonly dashboard?: boolean
  /** Drain limit of close() (default 5 s). */
  readonly drainMs?: number
  /** Anything else createInstance takes. */
  readonly instance?: Partial<InstanceOptions>
}

export interface TestInstance {
  readonly instance: Instance
  readonly dir: string
  readonly configFile: string
  readonly store: Store
  readonly routing: RoutingTable
  readonly gatewayUrl: string
  readonly adminUrl: string
  /** Present when started with `controller`. */
  readonly controller: RolloutController
  config(): Config
  close(): Promise<void>
}

const open = new Set<Instance>()
if (process.env.VITEST !== undefined) {
  afterAll(async () => {
    for (const instance of open) await instance.close()
  })
}

/** Write `document` to `dir`/tandem.yaml (with a store in `dir` unless it names one) and start it. */
export async function buildInstance(document: ConfigInput, options: InstanceKitOptions = {}): Promise<TestInstance> {
  const dir = options.dir ?? temporaryDir('tandem-instance-')
  const configFile = writeConfig(dir, { ...tandemConfig({ dir }), ...document })
  const instance = await createInstance({
    configFile,
    gatewayListen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    drainMs: options.drainMs ?? 5_000,
    admin: { dashboard: options.dashboard ?? false },
    // Off unless asked for: most tests drive the gateway alone and set the routing table themselves.
    comparisons: options.comparisons ?? false,
    controller:
      options.controller === undefined ? false : { failuresDir: join(dir, 'failures'), ...options.controller },
    ...options.instance,
  })
  const controller = instance.controller
  open.add(instance)
  return {
    instance,
    dir,
    configFile,
    store: instance.store,
    routing: instance.routing,
    gatewayUrl: instance.gatewayUrl,
    adminUrl: instance.adminUrl,
    get controller(): RolloutController {
      if (controller === undefined) throw new Error('no controller here: start the instance with { controller: {} }')
      return controller
    },
    config: () => instance.config(),
    close: async () => {
      open.delete(instance)
      await instance.close()
    },
  }
}

export interface RolloutStack extends TestInstance {
  readonly legacy: Service
  readonly candidate: Service
}

/**
 * Two sample services (legacy and candidate) and an instance with the comparison engine and the
 * controller over them: what the rollout and playbook tests drive. `build` gets the two URLs.
 */
export async function startRollout(
  build: (legacy: string, candidate: string) => ConfigOptions,
  behaviours: { legacy?: Partial<Behaviour>; candidate?: Partial<Behaviour> } = {},
): Promise<RolloutStack> {
  const legacy = await startService(behaviours.legacy)
  const candidate = await startService(behaviours.candidate)
  const dir = temporaryDir('tandem-rollout-')
  const built = await buildInstance(tandemConfig({ dir, ...build(legacy.url, candidate.url) }), {
    dir,
    controller: {},
    comparisons: { flushIntervalMs: 200 },
  }).catch(async (error: unknown) => {
    await Promise.all([legacy.close(), candidate.close()])
    throw error
  })
  return {
    ...built,
    controller: built.controller,
    legacy,
    candidate,
    async close() {
      await built.close()
      await legacy.close()
      await candidate.close()
    },
  }
}

/** The actions of a system's decision log, oldest first. */
export async function actionsOf(store: Store, system: string): Promise<string[]> {
  return (await listDecisions(store, system)).map((d) => d.action)
}
