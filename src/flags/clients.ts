// The adapters following flags on this instance (SPEC 12): each polls with a client id header; status shows
// how many follow a system and when each last synced. Bounded: oldest entries go first, stale ones expire.

export const CLIENT_HEADER = 'x-tandem-client'
export const FOLLOWS_HEADER = 'x-tandem-follows'
/** Clients remembered at most; the one synced longest ago is forgotten first. */
export const MAX_CLIENTS = 10_000
/** A client silent for longer no longer counts as following. */
export const CLIENT_TTL_MS = 10 * 60_000

export interface FlagClient {
  readonly id: string
  readonly lastSyncAt: number
}

interface Entry {
  follows: readonly string[]
  lastSyncAt: number
}

export class FlagClients {
  // Insertion order = sync order (an entry is re-inserted on each sync), so the first is the oldest.
  readonly #entries = new Map<string, Entry>()
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** A poll by client `id` (header value, clipped), following `follows` (comma-separated system names). */
  synced(id: string | undefined, follows: string | undefined): void {
    if (id === undefined || id === '') return
    const key = id.slice(0, 128)
    const list = (follows ?? '')
      .split(',', 64)
      .map((s) => s.trim().slice(0, 128))
      .filter((s) => s !== '')
    this.#entries.delete(key)
    this.#entries.set(key, { follows: list, lastSyncAt: this.#now() })
    while (this.#entries.size > MAX_CLIENTS) this.#entries.delete(this.#entries.keys().next().value!)
  }

  /** Clients following `system` that synced within the TTL, most recent first. */
  following(system: string): FlagClient[] {
    const since = this.#now() - CLIENT_TTL_MS
    const out: FlagClient[] = []
    for (const [id, e] of this.#entries)
      if (e.lastSyncAt >= since && e.follows.includes(system)) out.push({ id, lastSyncAt: e.lastSyncAt })
    return out.reverse()
  }
}
