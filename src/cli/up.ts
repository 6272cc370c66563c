// `tandem up`: run the gateway, the admin listener and the rollout controller from tandem.yaml until
// SIGINT/SIGTERM (graceful drain); SIGHUP reloads the file.
import type { Command } from 'commander'
import { createLogger } from '../instance/logger.js'
import { handleSignals } from '../instance/signals.js'
import { startupDone } from '../gateway/memory.js'
import { createInstance } from '../instance/create-instance.js'
import { printJson } from './output.js'
import { withConfigOption, withJsonOption } from './common.js'

export function registerUpCommands(program: Command): void {
  withJsonOption(withConfigOption(program.command('up')))
    .description('start the gateway and the admin listener (dashboard, API, /metrics); SIGHUP reloads the config')
    .option('--no-controller', 'serve the stored rollout state without running the rollout controller')
    .action(async (opts: { config: string; json?: boolean; controller: boolean }) => {
      const logger = createLogger()
      const instance = await createInstance({ configFile: opts.config, logger, controller: opts.controller })
      const config = instance.config()
      const summary = { gateway: instance.gatewayUrl, admin: instance.adminUrl, metrics: `${instance.adminUrl}/metrics`, systems: config.systems.map((s) => s.name), config: opts.config, pid: process.pid }
      if (opts.json) printJson(summary)
      else {
        process.stdout.write(`tandem is up (pid ${process.pid})\n`)
        process.stdout.write(`  gateway   ${summary.gateway}\n  admin     ${summary.admin}  (dashboard, /api/v1, /metrics)\n`)
        process.stdout.write(`  systems   ${summary.systems.join(', ') || '(none)'}\n  Ctrl-C drains and stops; kill -HUP ${process.pid} reloads ${opts.config}\n`)
      }
      handleSignals(instance, logger)
      startupDone()
      // Keep running until a signal stops the instance.
      await new Promise(() => {})
    })
}
