// adapter(): the adapter layer of a framework migration (SPEC 12). Each call runs the implementation the
// system's flag picks for its key; latency and errors per arm (and shadow comparisons) go to the instance.
import { request } from 'undici'
import { FlagFollower, type FollowOptions } from './follow.js'
import type { Observation, ShadowComparison, ShadowSide } from './observations.js'
import { MAX_COMPARISONS, MAX_OBSERVATIONS } from './observations.js'

export interface AdapterOptions<A extends unknown[]> extends FollowOptions {
  /** The stickiness key of a call (e.g. the user id among its arguments). */
  readonly key: (...args: A) => string
  /** Attributes targeting rules match (as they match headers at the gateway). */
  readonly attributes?: (...args: A) => Readonly<Record<string, string>>
  /** How often observations are sent (default 1000 ms). */
  readonly flushMs?: number
  /** The clock of observation times (tests inject one). */
  readonly now?: () => number
}

export interface Implementations<A extends unknown[], R> {
  readonly legacy: (...args: A) => R | Promise<R>
  readonly candidate: (...args: A) => R | Promise<R>
}

export type Adapted<A extends unknown[], R> = ((...args: A) => Promise<R>) & {
  /** The flag client: its stage, refresh interval, client id. */
  readonly flag: FlagFollower
  /** Resolves once the flag was read once (calls before serve legacy). */
  ready(): Promise<void>
  /** Send what is buffered now. */
  flush(): Promise<void>
  /** Stop polling and send what is buffered. */
  close(): Promise<void>
  /** Observations dropped because the buffer was full or the instance could not take them. */
  readonly dropped: number
}

/** Observations kept at most while the instance cannot take them; beyond, the oldest are dropped. */
const MAX_BUFFERED = 20_000
/** A shadow value larger than this (as JSON) is compared by its digest-like summary only. */
const MAX_VALUE_CHARS = 16_384

/**
 * Wrap two implementations behind the flag of `system`:
 * `const load = adapter('orders', { legacy, candidate }, { admin, key })`.
 */
export function adapter<A extends unknown[], R>(
  system: string,
  impl: Implementations<A, R>,
  options: AdapterOptions<A>,
): Adapted<A, R> {
  const flag = new FlagFollower(system, options)
  const now = options.now ?? Date.now
  let observations: Observation[] = []
  let comparisons: ShadowComparison[] = []
  let dropped = 0
  // O(1) per call: when the buffer is full (the instance slow or away) new observations are dropped and counted.
  const observe = (o: Observation): void => {
    if (observations.length >= MAX_BUFFERED) dropped++
    else observations.push(o)
  }
  const url = new URL(`/api/v1/systems/${encodeURIComponent(system)}/observations`, options.admin).href
  let sending: Promise<void> = Promise.resolve()
  const send = (): Promise<void> => {
    sending = sending.then(async () => {
      // Take the buffers whole (calls keep filling fresh ones) and send them in batches.
      const pendingObs = observations
      const pendingCmp = comparisons
      observations = []
      comparisons = []
      for (
        let i = 0, j = 0;
        i < pendingObs.length || j < pendingCmp.length;
        i += MAX_OBSERVATIONS, j += MAX_COMPARISONS
      ) {
        const batch = pendingObs.slice(i, i + MAX_OBSERVATIONS)
        const compared = pendingCmp.slice(j, j + MAX_COMPARISONS)
        try {
          const res = await request(url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
            },
            body: JSON.stringify({ client: flag.clientId, observations: batch, comparisons: compared }),
            headersTimeout: 5000,
            bodyTimeout: 5000,
          })
          await res.body.dump()
          // A refused batch (4xx) is not sent again: it would be refused again.
          if (res.statusCode >= 500) throw new Error(`${url} answered ${res.statusCode}`)
        } catch (error) {
          // The instance is away: what was not sent is dropped (counted), the buffers stay bounded.
          dropped += pendingObs.length - i
          options.onError?.(error)
          return
        }
      }
    })
    return sending
  }
  const flushTimer = setInterval(() => void send(), Math.max(10, options.flushMs ?? 1000))
  flushTimer.unref()

  const run = async (which: 'legacy' | 'candidate', args: A): Promise<R> => {
    const start = performance.now()
    try {
      const value = await impl[which](...args)
      observe({ arm: which, ms: performance.now() - start, error: false, at: now() })
      return value
    } catch (error) {
      observe({ arm: which, ms: performance.now() - start, error: true, at: now() })
      throw error
    }
  }

  const shadow = async (args: A): Promise<R> => {
    const legacy = settle(() => run('legacy', args))
    // Detached and on a later turn: the candidate never delays the caller, and its errors never reach it.
    const candidate = new Promise<Settled<R>>((resolve) =>
      setImmediate(() => resolve(settle(() => run('candidate', args)))),
    )
    void Promise.all([legacy, candidate]).then(([l, c]) => {
      if (comparisons.length < MAX_COMPARISONS * 10)
        comparisons.push({ at: now(), legacy: sideOf(l), candidate: sideOf(c) })
    })
    const served = await legacy
    if (served.ok) return served.value
    throw served.error
  }

  const call = (...args: A): Promise<R> => {
    const choice = flag.choose(
      () => options.key(...args),
      options.attributes === undefined ? undefined : (name) => options.attributes!(...args)[name],
    )
    if (choice.arm === 'legacy' && flag.stage === 'shadow') return shadow(args)
    return run(choice.arm, args)
  }
  const adapted = Object.assign(call, {
    flag,
    ready: () => flag.ready(),
    flush: send,
    close: async () => {
      flag.close()
      clearInterval(flushTimer)
      await send()
    },
  })
  // A live getter (Object.assign would copy its value once).
  return Object.defineProperty(adapted, 'dropped', { get: () => dropped, enumerable: true }) as Adapted<A, R>
}

type Settled<R> = { ok: true; value: R; ms: number } | { ok: false; error: unknown; ms: number }

async function settle<R>(fn: () => Promise<R>): Promise<Settled<R>> {
  const start = performance.now()
  try {
    return { ok: true, value: await fn(), ms: performance.now() - start }
  } catch (error) {
    return { ok: false, error, ms: performance.now() - start }
  }
}

function sideOf(s: Settled<unknown>): ShadowSide {
  if (!s.ok)
    return { error: s.error instanceof Error ? `${s.error.name}: ${s.error.message}` : String(s.error), ms: s.ms }
  let text: string
  try {
    text = JSON.stringify(s.value ?? null)
  } catch {
    text = JSON.stringify(String(s.value))
  }
  const value =
    text.length > MAX_VALUE_CHARS
      ? { truncated: true, length: text.length, head: text.slice(0, 256) }
      : (JSON.parse(text) as unknown)
  return { value, ms: s.ms }
}
