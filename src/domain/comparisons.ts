// How the comparisons of a window came out (SPEC 4): counted by the comparison engine, stored per second
// by every instance, merged for analysis; matchRate = match / (match + mismatch).

/** Comparison counts of one system over a window. */
export interface ComparisonCounts {
  readonly match: number
  readonly mismatch: number
  readonly noiseOnly: number
  readonly skipped: number
  readonly candidateError: number
}
