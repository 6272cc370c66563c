// `tandem up`: run the gateway, the admin listener and the rollout controller from tandem.yaml until
// SIGINT/SIGTERM (graceful drain); SIGHUP reloads the file. `--workers N` serves the gateway from N
// processes sharing the listener (instance/workers.ts); this process then keeps the store and controller.
import type { Command } from 'commander'
import { createLogger } from '../instance/logger.js'
import { handleSignals } from '../instance/signals.js'
import { startupDone } from '../gateway/memory.js'
import { createInstance } from '../instance/create-instance.js'
import { runGatewayWorker } from '../instance/gateway-worker.js'
import { isGatewayWorker, parseWorkers, startWorkers, type WorkerPool } from '../instance/workers.js'
import { printJson } from './output.js'
import { withConfigOption, withJsonOption } from './common.js'

const DRAIN_MS = 30_000

interface UpOptions {
  config: string
  json?: boolean
  controller: boolean
  workers: string
}

export function registerUpCommands(program: Command): void {
  withJsonOption(withConfigOption(program.command('up')))
    .description('start the gateway and the admin listener (dashboard, API, /metrics); SIGHUP reloads the config')
    .option('--no-controller', 'serve the stored rollout state without running the rollout controller')
    .option('--workers <n>', 'gateway processes sharing the gateway listener ("auto": one per core)', '1')
    .action(async (opts: UpOptions) => {
      if (isGatewayWorker()) {
        await runGatewayWorker()
        return new Promise(() => {})
      }
      const workers = parseWorkers(opts.workers)
      const logger = createLogger()
      let pool: WorkerPool | undefined
      const instance = await createInstance({
        configFile: opts.config,
        logger,
        controller: opts.controller,
        drainMs: DRAIN_MS,
        ...(workers > 1 ? { serveGateway: false, onReload: (config) => pool?.reload(config) } : {}),
      })
      if (workers > 1) {
        try {
          pool = await startWorkers(instance, workers, instance.config().gateway.listen, logger)
        } catch (error) {
          await instance.close()
          throw error
        }
      }
      const config = instance.config()
      const gateway = pool?.gatewayUrl ?? instance.gatewayUrl
      const summary = {
        gateway,
        admin: instance.adminUrl,
        metrics: `${instance.adminUrl}/metrics`,
        systems: config.systems.map((s) => s.name),
        config: opts.config,
        pid: process.pid,
        workers,
      }
      if (opts.json) printJson(summary)
      else {
        process.stdout.write(`tandem is up (pid ${process.pid}${workers > 1 ? `, ${workers} gateway workers` : ''})\n`)
        process.stdout.write(
          `  gateway   ${summary.gateway}\n  admin     ${summary.admin}  (dashboard, /api/v1, /metrics)\n`,
        )
        process.stdout.write(
          `  systems   ${summary.systems.join(', ') || '(none)'}\n  Ctrl-C drains and stops; kill -HUP ` +
            `${process.pid} reloads ${opts.config}\n`,
        )
      }
      // Workers drain first, then the primary flushes what they reported and closes the store.
      const drained = pool
      const close = drained ? async () => drained.stop(DRAIN_MS).then(() => instance.close()) : instance.close
      handleSignals({ ...instance, close }, logger)
      startupDone()
      // Keep running until a signal stops the instance.
      await new Promise(() => {})
    })
}
