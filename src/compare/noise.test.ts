import { describe, expect, it } from 'vitest'
import type { Difference } from './diff.js'
import { isReal, NoiseFilter } from './noise.js'
import { RollingCounts } from './rolling-counts.js'

const t = { relative: 0.2, absolute: 0.0003 }
const d = (field: string): Difference => ({ path: field, field, kind: 'changed', legacy: 1, candidate: 2 })

describe('noise rule (SPEC 4)', () => {
  it('a field is real only when raw > noise and both thresholds are exceeded', () => {
    expect(isReal({ raw: 20, noise: 0, total: 200 }, t)).toBe(true)
    expect(isReal({ raw: 200, noise: 200, total: 200 }, t)).toBe(false)
    expect(isReal({ raw: 10, noise: 20, total: 200 }, t)).toBe(false)
    // relative: |12-9|/21 = 0.14 <= 0.2
    expect(isReal({ raw: 12, noise: 9, total: 200 }, t)).toBe(false)
    // absolute: 1/10000 = 0.0001 <= 0.0003
    expect(isReal({ raw: 1, noise: 0, total: 10_000 }, t)).toBe(false)
    expect(isReal({ raw: 4, noise: 0, total: 10_000 }, t)).toBe(true)
  })

  it('a field seen as noise on a route stays noise for requests whose secondary agreed', () => {
    const f = new NoiseFilter()
    for (let i = 0; i < 10; i++) f.observe('r', [d('/ts')], [d('/ts')])
    expect(f.isKnownNoise('r', d('/ts'), t)).toBe(true)
    expect(f.isKnownNoise('r', d('/price'), t)).toBe(false)
    expect(f.isKnownNoise('other', d('/ts'), t)).toBe(false)
  })
})

describe('RollingCounts', () => {
  it('sums one-second buckets that overlap the window, per system', () => {
    const c = new RollingCounts()
    c.add('a', 10_000, 'match')
    c.add('a', 10_999, 'mismatch')
    c.add('a', 12_500, 'noise-only')
    c.add('b', 10_000, 'candidate-error')
    expect(c.counts('a', 10_000, 11_000)).toEqual({
      match: 1,
      mismatch: 1,
      noiseOnly: 0,
      skipped: 0,
      candidateError: 0,
    })
    expect(c.counts('a', 0, 20_000)).toMatchObject({ match: 1, mismatch: 1, noiseOnly: 1 })
    expect(c.counts('a', 13_000, 20_000)).toMatchObject({ match: 0, mismatch: 0, noiseOnly: 0 })
    expect(c.counts('b', 0, 20_000).candidateError).toBe(1)
  })
})
