// When the controller runs: one timer per system (every analysis.interval), one writer per system at a
// time, the lease that lets one instance of several decide, the store's change feed, and systems that a
// config reload adds or removes. It knows nothing of what a tick does.
import type { SystemConfig } from '../config/schema.js'
import { openChangeFeed, type ChangeFeed } from '../store/changes.js'
import type { Lease } from '../store/lease.js'
import type { Store } from '../store/open.js'

export interface SchedulerOptions {
  readonly store: Store
  readonly lease: Lease
  systems(): readonly SystemConfig[]
  /** One analysis interval of one system; runs under the system's lock. */
  tick(name: string): Promise<void>
  /** Another instance or an operator changed a system's state in the store. */
  changed(name: string): void
  /** A reload removed the system: forget what is kept about it. */
  removed(name: string): void
  error(name: string, error: unknown): void
}

export class Scheduler {
  readonly #o: SchedulerOptions
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #locks = new Map<string, Promise<unknown>>()
  #supervisor: NodeJS.Timeout | undefined
  #feed: ChangeFeed | undefined
  #running = false

  constructor(options: SchedulerOptions) {
    this.#o = options
  }

  get running(): boolean {
    return this.#running
  }

  async start(): Promise<void> {
    this.#running = true
    // A decision taken by another instance (or its operator) reaches this gateway within a second.
    this.#feed = await openChangeFeed(this.#o.store)
    this.#feed.on((kind, system) => {
      if (kind === 'state' && this.#running) this.#o.changed(system)
    })
    this.#reconcile()
    // Systems added by a config reload get their loop within a second.
    this.#supervisor = setInterval(() => this.#reconcile(), 1000)
    this.#supervisor.unref()
  }

  /** Stop the timers and the feed, wait for running ticks and actions, give the lease up. */
  async stop(): Promise<void> {
    this.#running = false
    clearInterval(this.#supervisor)
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
    await this.#feed?.close().catch(() => {})
    await Promise.allSettled([...this.#locks.values()])
    await this.#o.lease.release().catch(() => {})
  }

  /** On a shared PostgreSQL store only the instance holding the lease decides; SQLite always holds it. */
  holdsLease(): Promise<boolean> {
    return this.#o.lease.tryAcquire().catch(() => false)
  }

  /** Run `fn` after every earlier tick or action of the same system: one writer per system. */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(name) ?? Promise.resolve()
    const next = previous.then(fn, fn)
    const settled = next.catch(() => undefined)
    this.#locks.set(name, settled)
    void settled.then(() => {
      if (this.#locks.get(name) === settled) this.#locks.delete(name)
    })
    return next
  }

  #reconcile(): void {
    if (!this.#running) return
    const names = new Set(this.#o.systems().map((s) => s.name))
    for (const name of names) if (!this.#timers.has(name)) this.#schedule(name)
    for (const name of [...this.#timers.keys()]) {
      if (names.has(name)) continue
      clearTimeout(this.#timers.get(name))
      this.#timers.delete(name)
      this.#o.removed(name)
    }
  }

  #schedule(name: string): void {
    const system = this.#o.systems().find((s) => s.name === name)
    if (system === undefined || !this.#running) return
    const timer = setTimeout(() => {
      void this.exclusive(name, () => this.#o.tick(name))
        .catch((error: unknown) => this.#o.error(name, error))
        .finally(() => {
          if (this.#timers.get(name) === timer) this.#schedule(name)
        })
    }, system.analysis.interval)
    this.#timers.set(name, timer)
  }
}
