import { describe, expect, it } from 'vitest'
import { comparedCount, matchRate } from './match-rate.js'

describe('matchRate', () => {
  it('counts noise-only comparisons as matches', () => {
    // 160 responses differed only in noise (ids, timestamps), 40 had a real difference.
    expect(matchRate({ match: 0, noiseOnly: 160, mismatch: 40 })).toBe(0.8)
    expect(comparedCount({ match: 0, noiseOnly: 160, mismatch: 40 })).toBe(200)
  })

  it('is match / (match + mismatch) without noise, and null with nothing compared', () => {
    expect(matchRate({ match: 3, noiseOnly: 0, mismatch: 1 })).toBe(0.75)
    expect(matchRate({ match: 0, noiseOnly: 0, mismatch: 0 })).toBeNull()
    expect(matchRate({ match: 0, noiseOnly: 0, mismatch: 5 })).toBe(0)
  })
})
