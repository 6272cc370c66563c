// The `tandem` CLI: one commander program; each verb lives in its own module under cli/.
import { Command, CommanderError } from 'commander'
import { TandemError } from '../errors.js'
import { reportError } from './output.js'
import { registerConfigCommands } from './config-commands.js'
import { registerDiffsCommands } from './diffs.js'
import { registerProgramCommands } from './program.js'
import { registerUpCommands } from './up.js'
import { registerRolloutCommands } from './rollout.js'
import { registerDemoCommands } from './demo.js'
import { registerDataCommands } from './data.js'
import { registerEventsCommands } from './events.js'

export function buildProgram(): Command {
  const program = new Command('tandem')
    .description('Run a legacy system and its replacement in tandem, and move users over safely.')
    .version('0.1.0')
    .exitOverride()
    // Usage errors are reported once, coded, by main(); commander only prints help and version.
    .configureOutput({ outputError: () => {} })
  registerConfigCommands(program)
  registerUpCommands(program)
  registerDiffsCommands(program)
  registerProgramCommands(program)
  registerRolloutCommands(program)
  registerDemoCommands(program)
  registerDataCommands(program)
  registerEventsCommands(program)
  return program
}

/** Run the CLI; exits with 0 ok, 1 finding, 2 usage or runtime error. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram()
  const json = argv.includes('--json')
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; anything else commander rejects is a usage error.
      if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') process.exit(0)
      process.exitCode = reportError(new TandemError('TANDEM_ERR_USAGE', { detail: error.message.replace(/^error: /, '') }), json)
      return
    }
    process.exitCode = reportError(error, json)
  }
}
