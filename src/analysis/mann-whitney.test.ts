import { describe, expect, it } from 'vitest'
import { mannWhitneyU, normalSurvival } from './mann-whitney.js'

// Reference values computed with SciPy 1.17.1:
//   scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method='asymptotic', use_continuity=True)
// (statistic = U of x, pvalue as printed by repr()).
const SCIPY_CASES: Array<{ x: number[]; y: number[]; u: number; p: number }> = [
  { x: [19, 22, 16, 29, 24], y: [20, 11, 17, 12], u: 17, p: 0.11134688653314041 },
  { x: [1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7], y: [2.5, 3.5, 4.5, 8.5, 9.5, 10.5], u: 12, p: 0.22463863892378044 },
  { x: [1, 2, 2, 3, 3, 3, 4, 5], y: [3, 3, 4, 4, 5, 5, 6, 6, 7], u: 11, p: 0.01630200829707017 },
  { x: [0, 0, 0, 1, 0, 0, 0, 0, 1, 0], y: [1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1], u: 27, p: 0.01343782798973493 },
  { x: [5, 5, 5], y: [5, 5, 5, 5], u: 6, p: 1.0 },
  {
    x: [12.1, 14.3, 11.8, 13.0, 12.7, 15.2, 11.9, 12.4, 13.8, 12.0, 14.9, 13.3],
    y: [25.4, 31.2, 28.9, 35.0, 27.7, 30.1, 33.3, 29.5, 26.8, 32.4],
    u: 0,
    p: 8.733926588357827e-5,
  },
]

describe('mannWhitneyU', () => {
  it.each(SCIPY_CASES)('matches scipy for x=$x', ({ x, y, u, p }) => {
    const r = mannWhitneyU(x, y)
    expect(r.u).toBe(u)
    expect(r.pValue).toBeCloseTo(p, 12)
    expect(Math.abs(r.pValue - p) / p).toBeLessThan(1e-9)
  })

  it('is symmetric in its p-value when the samples are swapped', () => {
    for (const { x, y } of SCIPY_CASES) {
      const a = mannWhitneyU(x, y)
      const b = mannWhitneyU(y, x)
      expect(b.pValue).toBeCloseTo(a.pValue, 12)
      expect(a.u + b.u).toBe(x.length * y.length)
    }
  })

  it('answers NaN for an empty sample instead of a misleading p-value', () => {
    expect(mannWhitneyU([], [1, 2]).pValue).toBeNaN()
  })
})

describe('normalSurvival', () => {
  // Reference: scipy.stats.norm.sf(z).
  it.each([
    [0, 0.5],
    [1.96, 0.024997895148220435],
    [3, 0.0013498980316300933],
    [-1, 0.8413447460685429],
    [8, 6.22096057427174e-16],
  ])('sf(%s) = %s', (z, sf) => {
    expect(Math.abs(normalSurvival(z) - sf) / sf).toBeLessThan(1e-8)
  })
})
