// Hot reload loads tandem.yaml in a worker thread: reading, parsing and validating a huge or hostile
// file costs that thread, never the event loop that serves the gateway and the admin API. The worker's
// plain result is frozen here; the worker has its own memory and time budget.
import { Worker } from 'node:worker_threads'
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
    const worker = startWorker({ file })
    let settled = false
    const settle = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn()
      void worker.terminate()
    }
    const budget = (detail: string): ConfigFailure => ({ code: 'TANDEM_ERR_CONFIG_TOO_LARGE', params: { file, detail }, issues: [] })
    const timer = setTimeout(
      () => settle(() => resolve({ ok: false, failure: budget(`loading it took more than ${RELOAD_BUDGET.timeoutMs / 1000} s`) })),
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
    worker.once('exit', (code) => settle(() => reject(new Error(`the config loader thread stopped (exit code ${code}) before answering`))))
  })
}

/**
 * Compiled (dist/), the worker is plain JavaScript. From TypeScript sources through tsx (tests, or
 * bin/tandem.js without a fresh build) a worker does not inherit the parent's loader, so its entry
 * registers tsx first (as src/compare/worker-pool.ts does).
 */
function startWorker(request: LoadRequest): Worker {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
  const entry = new URL(`./load-worker${ext}`, import.meta.url)
  const options = { workerData: request, resourceLimits: { maxOldGenerationSizeMb: RELOAD_BUDGET.memoryMb } }
  if (ext === '.js') return new Worker(entry, options)
  // Resolved from here, not from the working directory the eval'd code would resolve against.
  const tsx = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : 'tsx/esm/api'
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}) })`
  return new Worker(code, { ...options, eval: true })
}
