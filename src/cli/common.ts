// Options shared by many verbs, and the config/admin lookup they rely on.
import type { Command } from 'commander'
import { loadConfig } from '../config/load.js'
import type { Config } from '../config/schema.js'

export const DEFAULT_CONFIG = './tandem.yaml'

export function withConfigOption(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'path to tandem.yaml', DEFAULT_CONFIG)
}

export function withJsonOption(cmd: Command): Command {
  return cmd.option('--json', 'print the result as JSON')
}

export async function configFrom(opts: { config?: string }): Promise<Config> {
  return loadConfig(opts.config ?? DEFAULT_CONFIG)
}
