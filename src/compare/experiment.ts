// Scientist-style in-process experiments: the control (`use`) always answers the caller; the candidate
// (`try`) runs detached, is compared with the same diff engine and the result goes to `publish`.
import { TandemError } from '../errors.js'
import { compileDiffOptions, diff, type Difference, type DiffSettings } from './diff.js'
import type { ComparisonEngine } from './engine.js'
import type { CapturedResponse } from './sink.js'

export interface Observation<T> {
  readonly name: 'control' | 'candidate'
  /** Set when the behaviour returned. */
  readonly value?: T
  /** Set when the behaviour threw or rejected. */
  readonly error?: unknown
  /** The value after `clean`, as compared and published. */
  readonly cleaned?: unknown
  readonly durationMs: number
}

export interface ExperimentResult<T> {
  readonly name: string
  readonly control: Observation<T>
  readonly candidate: Observation<T>
  readonly matched: boolean
  /** A mismatch an `ignore` rule accepted. */
  readonly ignored: boolean
  readonly mismatched: boolean
  /** Structural differences of the cleaned values (control is `legacy`). */
  readonly differences: readonly Difference[]
}

export type Publisher<T> = (result: ExperimentResult<T>) => void | Promise<void>

export interface ExperimentOptions<T> {
  /** compare.ignore, unordered, keyedArrays, numericTolerance for the default comparison. */
  readonly diff?: DiffSettings
  readonly publish?: Publisher<T>
  /** Told when a publisher or a rule (compare, ignore, runIf, enabled) throws; never the caller. */
  readonly onError?: (error: unknown) => void
}

type Behaviour<T> = () => T | Promise<T>

export class Experiment<T> {
  private control?: Behaviour<T>
  private candidate?: Behaviour<T>
  private comparator?: (control: T, candidate: T) => boolean
  private cleaner?: (value: T) => unknown
  private readonly ignores: Array<(control: Observation<T>, candidate: Observation<T>) => boolean> = []
  private runIfRule?: () => boolean
  private enabledRule?: () => boolean
  private readonly publishers: Publisher<T>[] = []

  constructor(
    readonly name: string,
    private readonly options: ExperimentOptions<T> = {},
  ) {
    if (options.publish) this.publishers.push(options.publish)
  }

  /** The existing behaviour: its result (or exception) is what run() gives the caller. */
  use(fn: Behaviour<T>): this {
    this.control = fn
    return this
  }

  /** The new behaviour under test. */
  try(fn: Behaviour<T>): this {
    this.candidate = fn
    return this
  }

  /** Replace the structural comparison. */
  compare(fn: (control: T, candidate: T) => boolean): this {
    this.comparator = fn
    return this
  }

  /** Reduce a value to what should be compared and published. */
  clean(fn: (value: T) => unknown): this {
    this.cleaner = fn
    return this
  }

  /** A mismatch this rule accepts is published as ignored, not mismatched. */
  ignore(fn: (control: Observation<T>, candidate: Observation<T>) => boolean): this {
    this.ignores.push(fn)
    return this
  }

  /** Run the candidate only when this says so (per call, e.g. for a user subset). */
  runIf(fn: () => boolean): this {
    this.runIfRule = fn
    return this
  }

  /** Whether the experiment runs at all (e.g. a percentage or a feature flag). */
  enabled(fn: () => boolean): this {
    this.enabledRule = fn
    return this
  }

  publish(fn: Publisher<T>): this {
    this.publishers.push(fn)
    return this
  }

  async run(): Promise<T> {
    const control = this.control
    if (control === undefined) throw new TandemError('TANDEM_ERR_EXPERIMENT_NO_CONTROL', { name: this.name })
    const candidate = this.candidate !== undefined && this.shouldRun() ? this.candidate : undefined
    const controlRun = observe('control', control, this.cleaner)
    if (candidate !== undefined) {
      // Detached: started on a later turn so even a synchronous candidate never delays the caller.
      const candidateRun = new Promise<Observation<T>>((resolve) =>
        setImmediate(() => resolve(observe('candidate', candidate, this.cleaner))),
      )
      void Promise.all([controlRun, candidateRun])
        .then(([c, k]) => this.conclude(c, k))
        .catch((error) => this.options.onError?.(error))
    }
    const observed = await controlRun
    if ('error' in observed) throw observed.error
    return observed.value as T
  }

  private shouldRun(): boolean {
    try {
      return (this.enabledRule?.() ?? true) && (this.runIfRule?.() ?? true)
    } catch (error) {
      this.options.onError?.(error)
      return false
    }
  }

  private async conclude(control: Observation<T>, candidate: Observation<T>): Promise<void> {
    const differences =
      'error' in control || 'error' in candidate
        ? []
        : diff(control.cleaned, candidate.cleaned, compileDiffOptions(this.options.diff))
    let matched: boolean
    if ('error' in control || 'error' in candidate) matched = sameError(control.error, candidate.error)
    else if (this.comparator)
      matched = this.guard(() => this.comparator!(control.value as T, candidate.value as T), false)
    else matched = differences.length === 0
    const ignored = !matched && this.ignores.some((rule) => this.guard(() => rule(control, candidate), false))
    const result: ExperimentResult<T> = {
      name: this.name,
      control,
      candidate,
      matched,
      ignored,
      mismatched: !matched && !ignored,
      differences,
    }
    for (const p of this.publishers) {
      try {
        await p(result)
      } catch (error) {
        this.options.onError?.(error)
      }
    }
  }

  private guard<R>(fn: () => R, fallback: R): R {
    try {
      return fn()
    } catch (error) {
      this.options.onError?.(error)
      return fallback
    }
  }
}

/** Start an experiment: `await experiment<User>('load-user').use(old).try(next).run()`. */
export function experiment<T>(name: string, options?: ExperimentOptions<T>): Experiment<T> {
  return new Experiment<T>(name, options)
}

async function observe<T>(
  name: 'control' | 'candidate',
  fn: Behaviour<T>,
  clean?: (value: T) => unknown,
): Promise<Observation<T>> {
  const start = performance.now()
  try {
    const value = await fn()
    return { name, value, cleaned: toJson(clean ? clean(value) : value), durationMs: performance.now() - start }
  } catch (error) {
    return { name, error, durationMs: performance.now() - start }
  }
}

/** Compare what a JSON encoding would carry: Dates become strings, undefined fields disappear. */
function toJson(v: unknown): unknown {
  if (v === undefined) return null
  try {
    return JSON.parse(JSON.stringify(v)) as unknown
  } catch {
    return String(v)
  }
}

function sameError(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false
  return a instanceof Error && b instanceof Error ? a.constructor === b.constructor && a.message === b.message : a === b
}

/**
 * A publisher that records results through a comparison engine, into the same store and counts as
 * mirrored traffic: system `system`, route `experiment:NAME`; a thrown candidate is a 500.
 */
export function enginePublisher<T>(engine: Pick<ComparisonEngine, 'submit'>, system = 'experiments'): Publisher<T> {
  return (r) => {
    engine.submit({
      system,
      route: `experiment:${r.name}`,
      at: Date.now(),
      primary: 'legacy',
      request: { method: 'CALL', url: r.name, headers: {}, body: null },
      legacy: asResponse(r.control),
      candidate: asResponse(r.candidate),
    })
  }
}

function asResponse(o: Observation<unknown>): CapturedResponse {
  const failed = 'error' in o
  const body = failed
    ? { error: o.error instanceof Error ? `${o.error.name}: ${o.error.message}` : String(o.error) }
    : o.cleaned
  return {
    ok: true,
    status: failed ? 500 : 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(body ?? null)),
    truncated: false,
    durationMs: o.durationMs,
  }
}
