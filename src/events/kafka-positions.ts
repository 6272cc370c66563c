// Kafka positions: a message is `partition:offset` (`2:41`); a stream position (a read's `after`/`until`,
// `end()`, a bridge checkpoint) is one such pair per partition, `0:41,1:-1,2:7` (-1: nothing yet). Pure.

/** Partition -> offset (as bigint: Kafka offsets are int64). */
export type OffsetVector = Map<number, bigint>

const PAIR = /^(\d{1,9}):(-1|\d{1,19})$/

/** `p:o[,p:o...]` -> vector; undefined when malformed. */
export function parseVector(text: string): OffsetVector | undefined {
  const v: OffsetVector = new Map()
  for (const part of text.split(',')) {
    const m = PAIR.exec(part.trim())
    if (m === null) return undefined
    const p = Number(m[1])
    if (v.has(p)) return undefined
    v.set(p, BigInt(m[2]!))
  }
  return v.size > 0 ? v : undefined
}

export function formatVector(v: OffsetVector): string {
  return [...v.entries()]
    .sort(([a], [b]) => a - b)
    .map(([p, o]) => `${p}:${o}`)
    .join(',')
}

export function messagePosition(partition: number, offset: bigint | string): string {
  return `${partition}:${offset}`
}

/**
 * Order of two positions: 0 when equal, positive when `a` is at or past `b` in every partition (and
 * past it in one), negative otherwise, so "caught up" (`compare(cursor, end) >= 0`) means every partition.
 * A partition missing from one side counts as -1 there.
 */
export function compareVectors(a: OffsetVector, b: OffsetVector): number {
  let ahead = false
  let behind = false
  for (const p of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(p) ?? -1n
    const y = b.get(p) ?? -1n
    if (x > y) ahead = true
    if (x < y) behind = true
  }
  if (behind) return -1
  return ahead ? 1 : 0
}

/** `previous` moved past every message of `batch` (the last offset read in each partition). */
export function advanceVector(
  previous: OffsetVector,
  batch: ReadonlyArray<{ readonly position: string }>,
): OffsetVector {
  const next = new Map(previous)
  for (const e of batch) {
    const [p, o] = splitPosition(e.position)
    if ((next.get(p) ?? -1n) < o) next.set(p, o)
  }
  return next
}

export function splitPosition(position: string): [number, bigint] {
  const colon = position.indexOf(':')
  return [Number(position.slice(0, colon)), BigInt(position.slice(colon + 1))]
}
