// Why a system that is not being analysed is where it is: the hold reason `tandem status` shows for
// pending, rolled-back, promoted and completed systems.
import type { Config } from '../config/schema.js'
import { waveReasons } from '../program/gates.js'
import type { Store } from '../store/open.js'
import { latestDecisions, listStates, type SystemState } from '../store/system-state.js'
import { describeHalt } from '../program/halt.js'
import { getProgramState } from '../store/program-state.js'
import { VERIFY_ACTIONS } from './rollback-check.js'

export async function holdWhileIdle(config: Config, store: Store, state: SystemState): Promise<string | null> {
  switch (state.stage) {
    case 'pending': {
      const stages = new Map((await listStates(store)).map((s) => [s.system, s.stage] as const))
      const waves = waveReasons(config, stages, state.system)
      const program = await getProgramState(store)
      if (program.halted) waves.unshift(`program halted: ${describeHalt(program)}; run \`tandem program resume\``)
      return waves.length > 0 ? waves.join('; ') : 'not started; run `tandem start`'
    }
    case 'rolled-back': {
      const rows = await latestDecisions(store, state.system, ['rollback', ...VERIFY_ACTIONS], 2)
      const last = rows.find((r) => r.action === 'rollback')
      const check =
        rows[0]?.action === 'rollback'
          ? 'verification pending'
          : rows[0]?.action === 'rollback-failed'
            ? `EMERGENCY: ${rows[0].reason}`
            : rows[0]?.action === 'rollback-verified'
              ? rows[0].reason
              : null
      return (
        `rolled back${last ? `: ${last.reason}` : ''}${check === null ? '' : ` [${check}]`}; run \`tandem` +
        ` retry\` once fixed`
      )
    }
    default:
      return null
  }
}
