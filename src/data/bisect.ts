// Checksum-and-bisect: compare count and hash sum per key segment on both sides (computed inside each
// database), split differing segments again, and download rows once a segment is small enough.
import { TandemError } from '../errors.js'
import type { DiffPlan, SidePlan } from './plan.js'
import type { DataSource } from './source.js'
import { compareRows, toCanonRow, type DiffRow } from './rows.js'
import {
  checksumQuery,
  countQuery,
  downloadQuery,
  minMaxQuery,
  sampleQuery,
  type KeyRange,
  type KeyTuple,
  type Split,
} from './sql.js'

export interface BisectSettings {
  /** Segments per split (default 32). */
  readonly factor: number
  /** Segments with at most this many rows on either side are downloaded and compared (default 16384). */
  readonly threshold: number
  /** Use hash_record_extended when both sides allow it. */
  readonly fast: boolean
  readonly onProgress?: (done: number, total: number) => void
  /**
   * More connections per side: the top-level scan of an integer key is cut into as many parts, one per
   * connection, checksummed at once (each part is still one grouped scan computing its leaves).
   */
  readonly lanes?: { readonly from: readonly DataSource[]; readonly to: readonly DataSource[] }
}

export interface BisectStats {
  /** Checksum queries per side (one per split range). */
  checksumQueries: number
  /** Key segments whose count and hash sum were compared. */
  segmentsChecked: number
  /** Segments whose count or sum differed. */
  segmentsDiffering: number
  /** Rows downloaded from both sides for row-level comparison. */
  rowsDownloaded: number
  /** Deepest recursion level reached (1 = the first split only). */
  maxDepth: number
}

/** Bisection levels one grouped scan of an integer range of `width` keys computes, and the leaf bucket width. */
export function scanLevels(width: bigint, factor: number): { levels: number; step: bigint } {
  const n = BigInt(factor)
  let levels = 1
  let buckets = n
  while (buckets * n <= BigInt(MAX_SCAN_BUCKETS) && (width + buckets - 1n) / buckets > 1n) {
    levels++
    buckets *= n
  }
  return { levels, step: (width + buckets - 1n) / buckets }
}

export interface BisectResult {
  readonly rowsFrom: number
  readonly rowsTo: number
  readonly rows: DiffRow[]
  readonly stats: BisectStats
}

interface SegmentSum {
  readonly count: bigint
  readonly sum: string
}

const MAX_DEPTH = 16
/** Most leaf buckets one grouped scan of an integer key range computes (32^3 with the default factor). */
export const MAX_SCAN_BUCKETS = 32768

/** Run a query on one side; a failure is TANDEM_ERR_DATA_QUERY naming the side (its URL redacted). */
export async function run(side: SidePlan, q: { sql: string; params: unknown[] } | string): Promise<unknown[][]> {
  const { sql, params } = typeof q === 'string' ? { sql: q, params: [] } : q
  try {
    return await side.source.query(sql, params)
  } catch (error) {
    throw new TandemError(
      'TANDEM_ERR_DATA_QUERY',
      { url: side.source.label, detail: (error as Error).message },
      { cause: error },
    )
  }
}

const big = (v: unknown): bigint => (v === null || v === undefined ? 0n : BigInt(String(v).split('.')[0] ?? '0'))

export async function bisect(plan: DiffPlan, settings: BisectSettings): Promise<BisectResult> {
  const stats: BisectStats = {
    checksumQueries: 0,
    segmentsChecked: 0,
    segmentsDiffering: 0,
    rowsDownloaded: 0,
    maxDepth: 0,
  }
  const rows: DiffRow[] = []
  const intKey = plan.keyCount === 1 && plan.kinds[0]?.family === 'int'
  const fast = settings.fast && plan.sameEngine
  let rowsFrom = 0n
  let rowsTo = 0n
  let total = 0
  let done = 0
  const progress = (n: bigint): void => {
    done += Number(n)
    settings.onProgress?.(Math.min(done, total), total)
  }

  async function checksums(side: SidePlan, range: KeyRange, split: Split): Promise<Map<number, SegmentSum>> {
    const out = new Map<number, SegmentSum>()
    for (const [seg, count, sum] of await run(side, checksumQuery(side, plan.keyCount, range, split, fast))) {
      out.set(Number(seg), { count: big(count), sum: String(sum ?? '0') })
    }
    return out
  }

  /** The top-level scan of one side, in parallel parts aligned on leaf buckets, one per connection. */
  async function laneChecksums(
    side: SidePlan,
    sources: readonly DataSource[],
    range: KeyRange,
    split: Split & { type: 'int' },
  ): Promise<Map<number, SegmentSum>> {
    const lo = BigInt(range.lo?.[0] ?? '0')
    const hi = BigInt(range.hi?.[0] ?? '0')
    const leaves = (hi - lo + split.step - 1n) / split.step
    const per = (leaves + BigInt(sources.length) - 1n) / BigInt(sources.length)
    const parts: Promise<Map<number, SegmentSum>>[] = []
    for (let k = 0n; k * per < leaves; k++) {
      const start = lo + k * per * split.step
      const end = start + per * split.step < hi ? start + per * split.step : hi
      const lane = { ...side, source: sources[Number(k)] ?? side.source }
      parts.push(checksums(lane, { lo: [start.toString()], hi: [end.toString()] }, split))
    }
    const out = new Map<number, SegmentSum>()
    for (const part of await Promise.all(parts)) {
      for (const [seg, s] of part) {
        const cur = out.get(seg)
        out.set(
          seg,
          cur === undefined ? s : { count: cur.count + s.count, sum: (big(cur.sum) + big(s.sum)).toString() },
        )
      }
    }
    return out
  }

  async function download(range: KeyRange, size: bigint): Promise<[number, number]> {
    const [a, b] = await Promise.all([
      run(plan.from, downloadQuery(plan.from, plan.keyCount, range)),
      run(plan.to, downloadQuery(plan.to, plan.keyCount, range)),
    ])
    stats.rowsDownloaded += a.length + b.length
    rows.push(...compareRows(plan, a.map(toCanonRow), b.map(toCanonRow)))
    progress(size)
    return [a.length, b.length]
  }

  /** Cut a non-integer key range at sampled boundaries; undefined when it cannot be cut further. */
  async function split(range: KeyRange, size: bigint): Promise<{ split: Split; ranges: KeyRange[] } | undefined> {
    // Sample boundaries from the side with more rows in the range; both sides then split identically.
    const step = (size + BigInt(settings.factor) - 1n) / BigInt(settings.factor)
    if (step < 1n || size <= 1n) return undefined
    const [fromCount, toCount] = await Promise.all([
      run(plan.from, countQuery(plan.from, plan.keyCount, range)),
      run(plan.to, countQuery(plan.to, plan.keyCount, range)),
    ])
    const side = big(fromCount[0]?.[0]) >= big(toCount[0]?.[0]) ? plan.from : plan.to
    const sampled = await run(side, sampleQuery(side, plan.keyCount, range, step))
    const bounds: KeyTuple[] = []
    for (const r of sampled) {
      const t = toCanonRow(r).map((v) => v ?? '')
      const prev = bounds[bounds.length - 1] ?? range.lo
      if (prev && JSON.stringify(prev) === JSON.stringify(t)) continue
      if (range.hi && JSON.stringify(range.hi) === JSON.stringify(t)) continue
      bounds.push(t)
    }
    if (bounds.length === 0) return undefined
    const ranges: KeyRange[] = []
    let lo = range.lo
    for (const b of bounds) {
      ranges.push({ lo, hi: b })
      lo = b
    }
    ranges.push({ lo, hi: range.hi })
    return { split: { type: 'bounds', bounds }, ranges }
  }

  /**
   * Integer key: one grouped scan per side computes count and hash sum for `factor^levels` leaf buckets;
   * the coarser bisection levels are sums of their leaves, so the whole tree below this range is walked
   * in memory. Differing leaves are downloaded, or scanned again when larger than the threshold.
   */
  async function visitInt(range: KeyRange, depth: number): Promise<void> {
    const lo = BigInt(range.lo?.[0] ?? '0')
    const hi = BigInt(range.hi?.[0] ?? '0')
    const { levels, step } = scanLevels(hi - lo, settings.factor)
    const split: Split = { type: 'int', lo, step }
    stats.checksumQueries++
    const lanes = depth === 1 ? settings.lanes : undefined
    const [a, b] = await Promise.all([
      lanes !== undefined && lanes.from.length > 1
        ? laneChecksums(plan.from, lanes.from, range, split)
        : checksums(plan.from, range, split),
      lanes !== undefined && lanes.to.length > 1
        ? laneChecksums(plan.to, lanes.to, range, split)
        : checksums(plan.to, range, split),
    ])
    if (depth === 1) {
      for (const s of a.values()) rowsFrom += s.count
      for (const s of b.values()) rowsTo += s.count
      total = Number(rowsFrom > rowsTo ? rowsFrom : rowsTo)
    }
    const factor = settings.factor
    // sums[k]: node index -> [count, sum] at level k + 1 (k = levels - 1 are the leaves), for both sides.
    const level = (leaves: Map<number, SegmentSum>): Array<Map<number, [bigint, bigint]>> => {
      const out: Array<Map<number, [bigint, bigint]>> = Array.from({ length: levels }, () => new Map())
      for (const [leaf, s] of leaves) {
        let node = leaf
        for (let k = levels - 1; k >= 0; k--) {
          const m = out[k] as Map<number, [bigint, bigint]>
          const cur = m.get(node) ?? [0n, 0n]
          m.set(node, [cur[0] + s.count, cur[1] + big(s.sum)])
          node = Math.floor(node / factor)
        }
      }
      return out
    }
    const sa = level(a)
    const sb = level(b)
    const walk = async (k: number, node: number): Promise<void> => {
      stats.segmentsChecked += factor
      stats.maxDepth = Math.max(stats.maxDepth, depth + k)
      const width = step * BigInt(factor) ** BigInt(levels - 1 - k)
      for (let i = node * factor; i < (node + 1) * factor; i++) {
        const x = sa[k]?.get(i) ?? [0n, 0n]
        const y = sb[k]?.get(i) ?? [0n, 0n]
        const segSize = x[0] > y[0] ? x[0] : y[0]
        if (x[0] === y[0] && x[1] === y[1]) {
          progress(segSize)
          continue
        }
        stats.segmentsDiffering++
        if (k + 1 < levels) {
          await walk(k + 1, i)
          continue
        }
        const start = lo + BigInt(i) * width
        const end = start + width < hi ? start + width : hi
        const child: KeyRange = { lo: [start.toString()], hi: [end.toString()] }
        if (segSize <= BigInt(settings.threshold) || end - start <= 1n || depth + k >= MAX_DEPTH)
          await download(child, segSize)
        else await visitInt(child, depth + levels)
      }
    }
    await walk(0, 0)
  }

  async function visit(range: KeyRange, depth: number, size: bigint): Promise<void> {
    if (intKey) return visitInt(range, depth)
    const cut = await split(range, size)
    if (!cut) {
      const [na, nb] = await download(range, size)
      if (depth === 1) {
        rowsFrom = BigInt(na)
        rowsTo = BigInt(nb)
      }
      return
    }
    stats.checksumQueries++
    stats.maxDepth = Math.max(stats.maxDepth, depth)
    const [a, b] = await Promise.all([checksums(plan.from, range, cut.split), checksums(plan.to, range, cut.split)])
    stats.segmentsChecked += cut.ranges.length
    if (depth === 1) {
      for (const s of a.values()) rowsFrom += s.count
      for (const s of b.values()) rowsTo += s.count
      total = Number(rowsFrom > rowsTo ? rowsFrom : rowsTo)
    }
    for (let i = 0; i < cut.ranges.length; i++) {
      const sa = a.get(i) ?? { count: 0n, sum: '0' }
      const sb = b.get(i) ?? { count: 0n, sum: '0' }
      const segSize = sa.count > sb.count ? sa.count : sb.count
      if (sa.count === sb.count && sa.sum === sb.sum) {
        progress(segSize)
        continue
      }
      stats.segmentsDiffering++
      const child = cut.ranges[i] as KeyRange
      if (segSize <= BigInt(settings.threshold) || depth >= MAX_DEPTH) await download(child, segSize)
      else await visit(child, depth + 1, segSize)
    }
  }

  const top = await topRange(plan, intKey)
  if (top) await visit(top.range, 1, top.size)
  return { rowsFrom: Number(rowsFrom), rowsTo: Number(rowsTo), rows, stats }
}

/** The whole table as a range: [min, max + 1) over both sides for an integer key, else unbounded. */
async function topRange(plan: DiffPlan, intKey: boolean): Promise<{ range: KeyRange; size: bigint } | undefined> {
  if (!intKey) {
    const [a, b] = await Promise.all([
      run(plan.from, countQuery(plan.from, plan.keyCount, {})),
      run(plan.to, countQuery(plan.to, plan.keyCount, {})),
    ])
    const size = big(a[0]?.[0]) > big(b[0]?.[0]) ? big(a[0]?.[0]) : big(b[0]?.[0])
    return { range: {}, size }
  }
  const [a, b] = await Promise.all([run(plan.from, minMaxQuery(plan.from)), run(plan.to, minMaxQuery(plan.to))])
  const bounds = [a[0], b[0]].filter((r): r is unknown[] => r !== undefined && r[0] !== null && r[0] !== undefined)
  if (bounds.length === 0) return undefined
  const lo = bounds.map((r) => big(r[0])).reduce((x, y) => (x < y ? x : y))
  const hi = bounds.map((r) => big(r[1])).reduce((x, y) => (x > y ? x : y)) + 1n
  return { range: { lo: [lo.toString()], hi: [hi.toString()] }, size: hi - lo }
}
