// Hot reload loads tandem.yaml in a worker thread: reading, parsing and validating a huge or hostile
// file costs that thread, never the event loop that serves the gateway and the admin API. The worker's
// plain result is frozen here; the worker has its own memory and time budget.
import { startWorker } from '../worker-entry.js'
import { deepFreeze, failureError, type ConfigFailure } from './load.js'
import type { LoadReply, LoadRequest } from './load-worker.js'
import type { Config } from './schema.js'

export const RELOAD_BUDGET = { memoryMb: 256, timeoutMs: 60_000 } as const

/** Like loadConfig, off the main thread: the frozen Config, or a TandemError with located issues. */
export async function loadConfigOffThread(file: string): Promise<Config> {
  const reply = await runWorker(file)
  if (reply.ok) return deepFreeze(reply.config)
  if ('unexpected' in reply) throw new Error(reply.unexpected)
  throw failureError(reply.failure)
}

function runWorker(file: string): Promise<LoadReply> {
  return new Promise((resolve, reject) => {
    const request: LoadRequest = { file }
    const worker = startWorker(import.meta.url, 'load-worker', {
      workerData: request,
      resourceLimits: { maxOldGenerationSizeMb: RELOAD_BUDGET.memoryMb },
    })
    let settled = false
    const settle = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn()
      void worker.terminate()
    }
    const budget = (detail: string): ConfigFailure => ({
      code: 'TANDEM_ERR_CONFIG_TOO_LARGE',
      params: { file, detail },
      issues: [],
    })
    const timer = setTimeout(
      () =>
        settle(() =>
          resolve({ ok: false, failure: budget(`loading it took more than ${RELOAD_BUDGET.timeoutMs / 1000} s`) }),
        ),
      RELOAD_BUDGET.timeoutMs,
    )
    timer.unref()
    worker.once('message', (reply: LoadReply) => settle(() => resolve(reply)))
    worker.once('error', (error: Error & { code?: string }) =>
      settle(() =>
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? resolve({ ok: false, failure: budget(`loading it needed more than ${RELOAD_BUDGET.memoryMb} MB`) })
          : reject(error),
      ),
    )
    worker.once('exit', (code) =>
      settle(() => reject(new Error(`the config loader thread stopped (exit code ${code}) before answering`))),
    )
  })
}
