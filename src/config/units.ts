// Parsers for the string units used in tandem.yaml: durations, byte sizes and threshold rules.

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Milliseconds of a duration string (`500ms`, `10s`, `5m`, `2h`, `1d`), or undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim())
  if (m === null) return undefined
  return Math.round(Number(m[1]) * DURATION_MS[m[2]!]!)
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/
const SIZE_BYTES: Record<string, number> = {
  B: 1,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
}

/** Bytes of a size (`1MiB`, `512KiB`, `10MB`, a plain number), or undefined if malformed. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined
  const m = SIZE.exec(value.trim())
  if (m === null) return undefined
  return Math.floor(Number(m[1]) * SIZE_BYTES[m[2] ?? 'B']!)
}

export type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!='

/**
 * A threshold rule such as `>= 0.8` or `> 2x`. `relative: true` (the `x` suffix) means the value is a
 * multiple of the baseline (the legacy arm in the same window) rather than an absolute value.
 */
export interface Threshold {
  readonly op: Comparator
  readonly value: number
  readonly relative: boolean
  readonly source: string
}

const THRESHOLD = /^(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(x)?$/

export function parseThreshold(text: string): Threshold | undefined {
  const m = THRESHOLD.exec(text.trim())
  if (m === null) return undefined
  return { op: m[1] as Comparator, value: Number(m[2]), relative: m[3] === 'x', source: text.trim() }
}

/** True when `actual op limit` holds. */
export function compare(actual: number, op: Comparator, limit: number): boolean {
  switch (op) {
    case '<':
      return actual < limit
    case '<=':
      return actual <= limit
    case '>':
      return actual > limit
    case '>=':
      return actual >= limit
    case '==':
      return actual === limit
    case '!=':
      return actual !== limit
  }
}
