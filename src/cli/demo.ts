// `tandem demo`: runs the bundled walkthrough (src/demo/) and exits 0 when the story completed.
import type { Command } from 'commander'
import { runDemo } from '../demo/run-demo.js'
import { printJson } from './output.js'
import { withJsonOption } from './common.js'

export function registerDemoCommands(program: Command): void {
  withJsonOption(program.command('demo'))
    .description(
      'watch a full migration in under two minutes: shadow, canary, a fault, automatic rollback, retry, promotion',
    )
    .option('--dir <path>', 'keep the demo config, store and failure report in this directory')
    .action(async (opts: { json?: boolean; dir?: string }) => {
      const result = await runDemo({
        ...(opts.dir !== undefined ? { dir: opts.dir } : {}),
        // With --json the narration goes to stderr so stdout holds only the result.
        write: opts.json ? (s) => process.stderr.write(s) : (s) => process.stdout.write(s),
      })
      if (opts.json) printJson(result)
      if (!result.ok) process.exitCode = 2
    })
}
