// `tandem program halt|resume|status`: the program's mass-failure halt (SPEC 7), through the admin API
// of a running `tandem up` (role operator to act, viewer to read); every halt and resume is audited.
import type { Command } from 'commander'
import { describeHalt } from '../program/halt.js'
import type { ProgramState } from '../store/program-state.js'
import { AdminClient, withAdminOptions, type AdminOptions } from './admin-client.js'
import { withJsonOption } from './common.js'
import { printJson } from './output.js'

type Opts = AdminOptions & { json?: boolean; reason?: string }

export function registerProgramControlCommands(program: Command): void {
  const group = program.command('program').description('halt or resume the whole migration program')

  withJsonOption(withAdminOptions(group.command('status')))
    .description('whether the program is halted, why, by whom and since when')
    .action(async (opts: Opts) => {
      const state = await (await AdminClient.from(opts)).get<ProgramState>('/api/v1/program')
      if (opts.json) return printJson(state)
      process.stdout.write(state.halted ? `halted: ${describeHalt(state)}\n` : 'running\n')
    })

  const verbs = [
    ['halt', 'halt the program: no system starts or advances (rollbacks still happen) until `tandem program resume`'],
    ['resume', 'resume a halted program once the cause of the mass failure is fixed'],
  ] as const
  for (const [verb, description] of verbs) {
    withJsonOption(withAdminOptions(group.command(verb)))
      .description(description)
      .option('--reason <text>', 'why, for the audit trail')
      .action(async (opts: Opts) => {
        const client = await AdminClient.from(opts)
        const state = await client.post<ProgramState>(
          `/api/v1/program/${verb}`,
          opts.reason === undefined ? {} : { reason: opts.reason },
        )
        if (opts.json) return printJson(state)
        process.stdout.write(
          verb === 'halt' ? `program halted: ${describeHalt(state)}\n` : `program resumed: ${state.reason ?? ''}\n`,
        )
      })
  }
}
