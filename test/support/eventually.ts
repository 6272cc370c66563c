// The test kit's one way to wait for something: bounded polling (a number of tries with a pause between),
// never a timing assertion. Throws, with the last error or value, when the condition never holds.

export interface EventuallyOptions<T> {
  /** How many times `fn` is called at most (default 600, with the default pause 30 s). */
  readonly tries?: number
  /** The pause between two tries in ms (default 50). */
  readonly every?: number
  /** When the value is good enough (default: not `false`). */
  readonly until?: (value: T) => boolean
}

/**
 * Call `fn` until it returns without throwing a value `until` accepts; resolves with that value. A `fn`
 * that holds assertions (`expect`) is retried while they fail.
 */
export async function eventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions<T> = {}): Promise<T> {
  const { tries = 600, every = 50, until = (v: T) => v !== false } = options
  let last: { error: unknown } | { value: T } | undefined
  for (let i = 0; i < tries; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, every))
    try {
      const value = await fn()
      if (until(value)) return value
      last = { value }
    } catch (error) {
      last = { error }
    }
  }
  if (last !== undefined && 'error' in last) throw last.error
  throw new Error(`eventually: not met after ${tries} tries; last value: ${describe(last?.value)}`)
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
