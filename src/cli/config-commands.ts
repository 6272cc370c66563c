// `tandem validate` and `tandem init`: check a program file, or write a commented starter one.
import { access, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Command } from 'commander'
import { configJsonSchema } from '../config/json-schema.js'
import { loadConfig } from '../config/load.js'
import { TandemError } from '../errors.js'
import { printJson } from './output.js'
import { withConfigOption, withJsonOption } from './common.js'

export function registerConfigCommands(program: Command): void {
  withJsonOption(withConfigOption(program.command('validate')))
    .description('validate tandem.yaml; exit 0 when valid, 2 with located, coded errors')
    .action(async (opts: { config: string; json?: boolean }) => {
      const config = await loadConfig(opts.config)
      const summary = { valid: true, file: opts.config, systems: config.systems.length, waves: config.waves.length }
      if (opts.json) printJson(summary)
      else process.stdout.write(`${opts.config} is valid: ${summary.systems} system(s), ${summary.waves} wave(s)\n`)
    })

  withConfigOption(program.command('init'))
    .description('write a starter tandem.yaml (and tandem.schema.json for editor completion)')
    .option('--force', 'overwrite an existing file')
    .action(async (opts: { config: string; force?: boolean }) => {
      if (!opts.force && (await exists(opts.config)))
        throw new TandemError('TANDEM_ERR_CONFIG_EXISTS', { file: opts.config })
      const schemaFile = join(dirname(opts.config), 'tandem.schema.json')
      await writeFile(opts.config, STARTER)
      await writeFile(schemaFile, `${JSON.stringify(configJsonSchema(), null, 2)}\n`)
      process.stdout.write(
        `wrote ${opts.config} and ${schemaFile}\nnext: edit the URLs, then \`tandem validate\` and \`tandem up\`\n`,
      )
    })
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  )
}

const STARTER = `# yaml-language-server: $schema=./tandem.schema.json
# A Tandem program: the systems you are migrating, how traffic moves, and when to roll back.
version: 1
gateway:
  listen: 127.0.0.1:8080          # clients talk to this address
  # fallback: http://127.0.0.1:9001  # unmatched requests go here (strangler fig); unset: 404
admin:
  listen: 127.0.0.1:8081          # dashboard, API and /metrics
store: sqlite:.tandem/tandem.db

systems:
  - name: my-api
    category: api
    priority: P0
    legacy:    { url: http://127.0.0.1:9001 }
    candidate: { url: http://127.0.0.1:9002 }
    routes:
      - path: /**
    rollout:
      strategy: canary
      stickiness: header:x-user-id
      steps: [ {shadow: 10m}, {weight: 5, pause: 5m}, {weight: 25, pause: 10m}, {weight: 50, pause: 10m}, {weight: 100}\
 ]
    analysis:
      interval: 10s
      minSamples: 50
`
