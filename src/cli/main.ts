// The `tandem` CLI: one commander program; each verb lives in its own module under cli/.
import { Command, CommanderError } from 'commander'
import { TandemError } from '../errors.js'
import { boundStreamingMemory } from '../gateway/memory.js'
import { reportError } from './output.js'
type Register = (program: Command) => void

/**
 * Each verb's module, loaded only when that verb runs: the modules behind `up`, `demo` or `data`
 * pull in servers and database drivers, and a CLI call should not pay for all of them.
 */
const MODULES: Record<string, () => Promise<Register>> = {
  config: async () => (await import('./config-commands.js')).registerConfigCommands,
  up: async () => (await import('./up.js')).registerUpCommands,
  diffs: async () => (await import('./diffs.js')).registerDiffsCommands,
  program: async () => (await import('./program.js')).registerProgramCommands,
  rollout: async () => (await import('./rollout.js')).registerRolloutCommands,
  programControl: async () => (await import('./program-control.js')).registerProgramControlCommands,
  demo: async () => (await import('./demo.js')).registerDemoCommands,
  data: async () => (await import('./data.js')).registerDataCommands,
  events: async () => (await import('./events.js')).registerEventsCommands,
}

const VERBS: Record<string, keyof typeof MODULES> = {
  validate: 'config',
  init: 'config',
  up: 'up',
  diffs: 'diffs',
  check: 'program',
  report: 'program',
  program: 'programControl',
  status: 'rollout',
  start: 'rollout',
  promote: 'rollout',
  advance: 'rollout',
  pause: 'rollout',
  resume: 'rollout',
  rollback: 'rollout',
  retry: 'rollout',
  finalize: 'rollout',
  demo: 'demo',
  data: 'data',
  events: 'events',
}

/** The program with the verbs of `argv` registered (every verb when the verb is unknown or help is asked). */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('tandem')
    .description('Run a legacy system and its replacement in tandem, and move users over safely.')
    .version('0.1.0')
    .exitOverride()
    // Usage errors are reported once, coded, by main(); commander only prints help and version.
    .configureOutput({ outputError: () => {} })
  const verb = argv.slice(2).find((a) => !a.startsWith('-'))
  // Before the verb's modules load: their start-up garbage would grow the young generation.
  if (verb === 'up') await boundStreamingMemory()
  const only = verb === undefined ? undefined : VERBS[verb]
  const modules = only === undefined ? Object.keys(MODULES) : [only]
  for (const name of modules) (await MODULES[name]!())(program)
  return program
}

/** Run the CLI; exits with 0 ok, 1 finding, 2 usage or runtime error. */
export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv)
  const json = argv.includes('--json')
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; anything else commander rejects is a usage error.
      if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version')
        process.exit(0)
      process.exitCode = reportError(
        new TandemError('TANDEM_ERR_USAGE', { detail: error.message.replace(/^error: /, '') }),
        json,
      )
      return
    }
    process.exitCode = reportError(error, json)
  }
}
