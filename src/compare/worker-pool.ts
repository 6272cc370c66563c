// A small, bounded pool of worker threads for comparisons of large bodies. It never queues without
// bound: when every worker has its share of jobs, run() answers null and the caller drops the work.
import type { Worker } from 'node:worker_threads'
import { startWorker } from '../worker-entry.js'
import type { CompareConfig, ExchangeOutcome } from './compare-exchange.js'
import type { WorkerReply, WorkerRequest } from './compare-worker.js'
import type { Exchange } from './sink.js'

interface Slot {
  readonly worker: Worker
  pending: number
}

export class CompareWorkerPool {
  private readonly slots: Slot[] = []
  private readonly waiting = new Map<
    number,
    { resolve: (o: ExchangeOutcome) => void; reject: (e: Error) => void; slot: Slot }
  >()
  private nextId = 1

  constructor(
    private readonly size: number,
    private readonly perWorker = 4,
  ) {}

  get inFlight(): number {
    return this.waiting.size
  }

  /** Compare in a worker; null when the pool is saturated. */
  run(
    exchange: Exchange,
    config: CompareConfig,
    fullFields: readonly string[] | null = [],
  ): Promise<ExchangeOutcome> | null {
    const slot = this.pick()
    if (slot === null) return null
    const id = this.nextId++
    slot.pending++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot })
      slot.worker.postMessage({ id, exchange, config, fullFields } satisfies WorkerRequest)
    })
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0)
    await Promise.all(slots.map((s) => s.worker.terminate()))
    for (const w of this.waiting.values()) w.reject(new Error('comparison worker pool closed'))
    this.waiting.clear()
  }

  private pick(): Slot | null {
    let best: Slot | undefined
    for (const s of this.slots) if (best === undefined || s.pending < best.pending) best = s
    if (best !== undefined && best.pending === 0) return best
    if (this.slots.length < this.size) return this.spawn()
    return best !== undefined && best.pending < this.perWorker ? best : null
  }

  private spawn(): Slot {
    const worker = startWorker(import.meta.url, 'compare-worker')
    // Idle workers must not keep the process alive.
    worker.unref()
    const slot: Slot = { worker, pending: 0 }
    worker.on('message', (reply: WorkerReply) => {
      const w = this.waiting.get(reply.id)
      if (w === undefined) return
      this.waiting.delete(reply.id)
      w.slot.pending--
      if ('error' in reply) w.reject(new Error(reply.error))
      else w.resolve(reply.outcome)
    })
    worker.on('error', (error) => this.fail(slot, error))
    worker.on('exit', () => this.fail(slot, new Error('comparison worker exited')))
    this.slots.push(slot)
    return slot
  }

  /** A dead worker fails its jobs and leaves the pool; the next job spawns a fresh one. */
  private fail(slot: Slot, error: Error): void {
    const i = this.slots.indexOf(slot)
    if (i >= 0) this.slots.splice(i, 1)
    for (const [id, w] of this.waiting) {
      if (w.slot !== slot) continue
      this.waiting.delete(id)
      w.reject(error)
    }
  }
}
