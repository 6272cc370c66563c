// The match rate of SPEC 4: match / (match + mismatch), where a comparison whose only differences were
// noise (present between the two legacy instances too) counts as a match. Without that, any API that
// returns a timestamp or a request id would score 0 and be rolled back for behaving like legacy.

export interface MatchCounts {
  readonly match: number
  readonly mismatch: number
  readonly noiseOnly: number
}

/** The share of compared responses that match once noise is removed; null when nothing was compared. */
export function matchRate(counts: MatchCounts): number | null {
  const matched = counts.match + counts.noiseOnly
  const compared = matched + counts.mismatch
  return compared === 0 ? null : matched / compared
}

/** How many comparisons the rate is based on. */
export function comparedCount(counts: MatchCounts): number {
  return counts.match + counts.noiseOnly + counts.mismatch
}
