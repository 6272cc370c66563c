// Starts a worker thread on a module beside the caller, compiled or from the TypeScript sources alike.
import { Worker, type WorkerOptions } from 'node:worker_threads'

/**
 * `name` is the module's file name without extension, resolved against `from` (the caller's
 * import.meta.url). Compiled (dist/), the worker runs the .js directly; from the sources it starts
 * through worker-from-source.mjs, which registers the TypeScript loader in the thread first. The
 * compiled package never takes that branch, so it never loads tsx.
 */
export function startWorker(from: string, name: string, options: WorkerOptions = {}): Worker {
  if (!from.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, from), options)
  const entry = new URL(`./${name}.ts`, from).href
  return new Worker(new URL('./worker-from-source.mjs', import.meta.url), {
    ...options,
    argv: [...(options.argv ?? []), entry],
  })
}
