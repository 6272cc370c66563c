// Process signals of a running instance: SIGINT/SIGTERM drain and stop, SIGHUP reloads tandem.yaml.
import type { Logger } from 'pino'
import { writeAudit } from '../store/audit.js'
import { describe } from '../admin/routes-act.js'
import { TandemError } from '../errors.js'
import type { Instance } from './create-instance.js'

const SIGHUP_ACTOR = 'signal:SIGHUP'

/**
 * Reload on SIGHUP and audit it as the API audits its reloads: `config.reload` by `signal:SIGHUP`
 * with the outcome. Whoever can signal the process owns it, hence role admin.
 */
export async function reloadOnSignal(instance: Pick<Instance, 'reload' | 'store'>, logger: Logger): Promise<void> {
  const audit = {
    actor: SIGHUP_ACTOR,
    role: 'admin',
    action: 'config.reload',
    target: null,
    params: { signal: 'SIGHUP' },
  }
  let entry: { result: 'ok' | 'error'; detail?: string }
  try {
    const result = await instance.reload(SIGHUP_ACTOR)
    entry = result.ok
      ? { result: 'ok' }
      : {
          result: 'error',
          detail: describe(
            new TandemError('TANDEM_ERR_CONFIG_INVALID', { count: result.errors.length, file: 'the config file' }),
          ),
        }
  } catch (error) {
    logger.error({ err: error }, 'reload on SIGHUP failed')
    entry = { result: 'error', detail: describe(error) }
  }
  await writeAudit(instance.store, { ...audit, ...entry }).catch((error: unknown) =>
    logger.error({ err: error }, 'could not audit the SIGHUP reload'),
  )
}

/** Install the handlers; returns a function that removes them. */
export function handleSignals(
  instance: Instance,
  logger: Logger,
  exit: (code: number) => void = (c) => process.exit(c),
): () => void {
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal while draining: the operator wants out now.
      exit(130)
      return
    }
    stopping = true
    logger.info({ signal }, 'draining in-flight requests, then stopping')
    void instance.close().then(
      () => exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        exit(2)
      },
    )
  }
  const hup = () => void reloadOnSignal(instance, logger)
  const onInt = () => stop('SIGINT')
  const onTerm = () => stop('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  process.on('SIGHUP', hup)
  return () => {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
    process.off('SIGHUP', hup)
  }
}
