import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import { ComparisonEngine, type ComparisonRecord } from './engine.js'
import { enginePublisher, experiment, type ExperimentResult } from './experiment.js'

/** A promise with its resolver, to order events without timing. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

describe('experiment()', () => {
  it('returns the control value while a slow candidate is still running', async () => {
    const gate = deferred()
    const published = deferred<ExperimentResult<{ n: number }>>()
    let candidateFinished = false
    const value = await experiment<{ n: number }>('slow')
      .use(() => ({ n: 1 }))
      .try(async () => {
        await gate.promise
        candidateFinished = true
        return { n: 1 }
      })
      .publish((r) => published.resolve(r))
      .run()
    expect(value).toEqual({ n: 1 })
    expect(candidateFinished).toBe(false)
    gate.resolve()
    const result = await published.promise
    expect(candidateFinished).toBe(true)
    expect(result).toMatchObject({ name: 'slow', matched: true, mismatched: false, differences: [] })
  })

  it('never lets a candidate exception reach the caller', async () => {
    const published = deferred<ExperimentResult<number>>()
    const value = await experiment<number>('boom')
      .use(() => 42)
      .try(() => {
        throw new Error('candidate broke')
      })
      .publish((r) => published.resolve(r))
      .run()
    expect(value).toBe(42)
    const r = await published.promise
    expect(r.mismatched).toBe(true)
    expect((r.candidate.error as Error).message).toBe('candidate broke')
  })

  it('rethrows the control exception and still runs the candidate', async () => {
    const published = deferred<ExperimentResult<number>>()
    const run = experiment<number>('control-fails')
      .use(async () => {
        throw new RangeError('control broke')
      })
      .try(() => 1)
      .publish((r) => published.resolve(r))
      .run()
    await expect(run).rejects.toThrow('control broke')
    expect((await published.promise).mismatched).toBe(true)
  })

  it('publishes a mismatch with the structural diff of the cleaned values', async () => {
    const published = deferred<ExperimentResult<{ id: number; price: number; at: Date }>>()
    await experiment<{ id: number; price: number; at: Date }>('price', { diff: { ignore: ['/at'] } })
      .use(() => ({ id: 1, price: 10, at: new Date(1) }))
      .try(() => ({ id: 1, price: 12, at: new Date(2) }))
      .publish((r) => published.resolve(r))
      .run()
    const r = await published.promise
    expect(r.mismatched).toBe(true)
    expect(r.differences).toEqual([{ path: '/price', field: '/price', kind: 'changed', legacy: 10, candidate: 12 }])
  })

  it('honours compare, clean, ignore, runIf and enabled', async () => {
    const results: ExperimentResult<string>[] = []
    const done = deferred()
    const exp = () =>
      experiment<string>('rules')
        .use(() => 'Hello')
        .try(() => 'hello')
        .publish((r) => {
          results.push(r)
          if (results.length === 3) done.resolve()
        })
    await exp()
      .compare((a, b) => a.toLowerCase() === b.toLowerCase())
      .run()
    await exp()
      .clean((v) => v.toUpperCase())
      .run()
    await exp()
      .ignore((c, k) => c.value?.toLowerCase() === k.value)
      .run()
    let tried = 0
    await experiment<string>('off')
      .use(() => 'x')
      .try(() => String(++tried))
      .runIf(() => false)
      .run()
    await experiment<string>('disabled')
      .use(() => 'x')
      .try(() => String(++tried))
      .enabled(() => false)
      .run()
    await done.promise
    expect(results.map((r) => [r.matched, r.ignored, r.mismatched])).toEqual([
      [true, false, false],
      [true, false, false],
      [false, true, false],
    ])
    expect(tried).toBe(0)
  })

  it('a publisher writing through the engine records the comparison', async () => {
    const engine = new ComparisonEngine({ config: parseConfig('version: 1\n') })
    const recorded = deferred<ComparisonRecord>()
    engine.onRecord((r) => recorded.resolve(r))
    await experiment<{ total: number }>('checkout')
      .use(() => ({ total: 5 }))
      .try(() => ({ total: 6 }))
      .publish(enginePublisher(engine, 'shop'))
      .run()
    const r = await recorded.promise
    expect(r).toMatchObject({ system: 'shop', route: 'experiment:checkout', result: 'mismatch' })
    expect(r.outcome.remaining).toMatchObject([{ path: '/total', legacy: 5, candidate: 6 }])
    await engine.close()
  })

  it('run() without use() is a coded error', async () => {
    await expect(experiment('empty').run()).rejects.toMatchObject({ code: 'TANDEM_ERR_EXPERIMENT_NO_CONTROL' })
  })
})
