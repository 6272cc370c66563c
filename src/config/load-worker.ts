// Worker-thread entry: reads and validates tandem.yaml for a hot reload, off the thread that serves
// traffic, and posts back plain data (a Config to freeze, or the failure with its located issues).
import { parentPort, workerData } from 'node:worker_threads'
import { checkConfigFile, type ConfigOutcome } from './load.js'

export interface LoadRequest {
  readonly file: string
}

export type LoadReply = ConfigOutcome | { readonly ok: false; readonly unexpected: string }

const { file } = workerData as LoadRequest
checkConfigFile(file).then(
  (outcome) => parentPort!.postMessage(outcome satisfies LoadReply),
  (error: unknown) =>
    parentPort!.postMessage({
      ok: false,
      unexpected: error instanceof Error ? error.message : String(error),
    } satisfies LoadReply),
)
