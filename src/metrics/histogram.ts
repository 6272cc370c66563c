// HDR histograms built in plain JavaScript. The package's index (and its build()) also loads its
// WebAssembly build, about 9 MB of resident memory the gateway never uses; the JS factory is enough.
import type { Histogram, JsHistogram } from 'hdr-histogram-js'
import { constructorFromBucketSize } from 'hdr-histogram-js/dist/JsHistogramFactory.js'
// Importing the JS encoding module adds encodeIntoCompressedBase64 to every JS histogram (no WebAssembly).
import { decompress, doDecode } from 'hdr-histogram-js/dist/JsHistogram.encoding.js'

export type { Histogram }

/** A histogram of integer values (microseconds here) with 2 significant digits, resized as needed. */
export function newHistogram(bitBucketSize: 32 | 'packed' = 32): Histogram {
  const Constructor = constructorFromBucketSize(bitBucketSize)
  const histogram = new Constructor(1, 2, 2)
  histogram.autoResize = true
  return histogram
}

/** The histogram in HdrHistogram's V2 compressed base64 form (the form stored per second). */
export function encodeHistogram(histogram: Histogram): string {
  return (histogram as Histogram & { encodeIntoCompressedBase64(level?: number): string }).encodeIntoCompressedBase64()
}

/**
 * Merged histograms share one layout: values up to an hour (in microseconds) fit without resizing, so
 * adding a decoded second is a plain sum of counts arrays (a different layout is added value by value).
 */
export const MERGE_RANGE = 3_600_000_000

/** A histogram to merge decoded seconds into. */
export function newMergeHistogram(): Histogram {
  const Constructor = constructorFromBucketSize(32)
  const histogram = new Constructor(1, MERGE_RANGE, 2)
  histogram.autoResize = true
  return histogram
}

/** Decode what encodeHistogram wrote, in the layout of newMergeHistogram. */
export function decodeHistogram(base64: string): Histogram {
  const histogram = doDecode(decompress(Buffer.from(base64, 'base64')), 32, MERGE_RANGE) as unknown as Histogram
  histogram.autoResize = true
  return histogram
}

/** Per counts-array index of the merge layout: the highest and the median equivalent value of its bucket. */
interface LayoutValues {
  readonly unitMagnitude: number
  readonly subBucketHalfCountMagnitude: number
  readonly highest: Float64Array
  readonly median: Float64Array
}
let layout: LayoutValues | undefined

/** The merge layout's per-index values, computed once with the histogram's own functions. */
function layoutValues(): LayoutValues {
  if (layout !== undefined) return layout
  const h = newMergeHistogram() as unknown as JsHistogram
  const highest = new Float64Array(h.countsArrayLength)
  const median = new Float64Array(h.countsArrayLength)
  for (let i = 0; i < h.countsArrayLength; i++) {
    highest[i] = h.highestEquivalentValue(h.valueFromIndex(i))
    median[i] = h.medianEquivalentValue(highest[i]!)
  }
  const { unitMagnitude, subBucketHalfCountMagnitude } = h
  return (layout = { unitMagnitude, subBucketHalfCountMagnitude, highest, median })
}

/** The table for `h` if it has the merge layout's index-to-value mapping. */
function valuesFor(h: JsHistogram): LayoutValues | undefined {
  const v = layoutValues()
  const same = h.unitMagnitude === v.unitMagnitude && h.subBucketHalfCountMagnitude === v.subBucketHalfCountMagnitude
  return same ? v : undefined
}

/** `h.highestEquivalentValue(h.valueFromIndex(index))`, from a table for histograms of the merge layout. */
export function highestEquivalentAt(histogram: Histogram, index: number): number {
  const h = histogram as unknown as JsHistogram
  const table = valuesFor(h)?.highest
  return table !== undefined && index < table.length ? table[index]! : h.highestEquivalentValue(h.valueFromIndex(index))
}

/**
 * The histogram's mean exactly as its `mean` getter computes it (the same terms added in the same order),
 * without the getter's iterator, which visits every empty index of the counts array.
 */
export function meanOf(histogram: Histogram): number {
  const total = histogram.totalCount
  if (total === 0) return 0
  const h = histogram as unknown as JsHistogram
  if (typeof h.getCountAtIndex !== 'function') return histogram.mean
  const median = valuesFor(h)?.median
  let sum = 0
  let seen = 0
  for (let i = 0; i < h.countsArrayLength && seen < total; i++) {
    const n = h.getCountAtIndex(i)
    if (n === 0) continue
    seen += n
    const m =
      median !== undefined && i < median.length
        ? median[i]!
        : h.medianEquivalentValue(h.highestEquivalentValue(h.valueFromIndex(i)))
    sum += m * n
  }
  return sum / total
}
