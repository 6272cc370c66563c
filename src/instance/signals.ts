// Process signals of a running instance: SIGINT/SIGTERM drain and stop, SIGHUP reloads tandem.yaml.
import type { Logger } from 'pino'
import type { Instance } from './start-instance.js'

/** Install the handlers; returns a function that removes them. */
export function handleSignals(instance: Instance, logger: Logger, exit: (code: number) => void = (c) => process.exit(c)): () => void {
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
  const hup = () => void instance.reload('signal:SIGHUP')
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
