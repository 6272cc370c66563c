// Why a system that is not being analysed is where it is: the hold reason `tandem status` shows for
// pending, rolled-back, promoted and completed systems.
import type { Config } from '../config/schema.js'
import { waveReasons } from '../program/gates.js'
import type { Store } from '../store/open.js'
import { listStates, type SystemState } from '../store/system-state.js'

export async function holdWhileIdle(config: Config, store: Store, state: SystemState): Promise<string | null> {
  switch (state.stage) {
    case 'pending': {
      const stages = new Map((await listStates(store)).map((s) => [s.system, s.stage] as const))
      const waves = waveReasons(config, stages, state.system)
      return waves.length > 0 ? waves.join('; ') : 'not started; run `tandem start`'
    }
    case 'rolled-back': {
      const last = await store.db
        .selectFrom('decisions')
        .select(['reason'])
        .where('system', '=', state.system)
        .where('action', '=', 'rollback')
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst()
      return `rolled back${last ? `: ${last.reason}` : ''}; run \`tandem retry\` once fixed`
    }
    default:
      return null
  }
}
