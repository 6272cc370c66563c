// Merging the histograms instances store per second, fast: the encoded counts (HdrHistogram V2) are added
// straight into one counts array, and one histogram is built per window instead of one per stored row.
import type { JsHistogram } from 'hdr-histogram-js'
import ByteBufferModule from 'hdr-histogram-js/dist/ByteBuffer.js'
import { decompress } from 'hdr-histogram-js/dist/JsHistogram.encoding.js'
import ZigZagModule from 'hdr-histogram-js/dist/ZigZagEncoding.js'
import { decodeHistogram, highestEquivalentAt, newMergeHistogram, type Histogram } from './histogram.js'

// CommonJS default exports, as the ESM loader hands them over.
const defaultOf = (m: unknown): unknown => (m as { default?: unknown }).default ?? m
const ByteBuffer = defaultOf(ByteBufferModule) as new (data: Uint8Array) => ByteBufferLike
const ZigZag = defaultOf(ZigZagModule) as { decode(buffer: ByteBufferLike): number }

interface ByteBufferLike {
  position: number
  getInt32(): number
  getInt64(): number
}

/** V2 header: cookie, payload length, index offset, significant digits, lowest, highest, ratio. */
const HEADER_BYTES = 40

/** The counts of a stored histogram by counts-array index (the layout of newHistogram: 1 µs, 2 digits). */
export interface StoredCounts {
  readonly indices: readonly number[]
  readonly counts: readonly number[]
}

/** Parse an encoded histogram; a layout other than Tandem's own is decoded and merged the slow way. */
export function parseStoredHistogram(base64: string): StoredCounts | Histogram {
  const data = decompress(new Uint8Array(Buffer.from(base64, 'base64')))
  const buffer = new ByteBuffer(data)
  buffer.getInt32()
  const payload = buffer.getInt32()
  buffer.getInt32()
  const digits = buffer.getInt32()
  const lowest = buffer.getInt64()
  if (digits !== 2 || lowest !== 1) return decodeHistogram(base64)
  buffer.position = HEADER_BYTES
  const end = HEADER_BYTES + payload
  const indices: number[] = []
  const counts: number[] = []
  // Positive words are counts at the next index; negative words skip that many empty indices.
  let index = 0
  while (buffer.position < end) {
    const word = ZigZag.decode(buffer)
    if (word < 0) index -= word
    else {
      if (word > 0) {
        indices.push(index)
        counts.push(word)
      }
      index++
    }
  }
  return { indices, counts }
}

let layoutInstance: Histogram | undefined
/** An empty histogram of the merge layout, for its index-to-value functions. */
const layoutHistogram = (): Histogram => (layoutInstance ??= newMergeHistogram())

/** Scratch counts for sumStoredCounts (one merge at a time: the reader is synchronous). */
let scratch = new Float64Array(4096)

/** Several stored histograms' counts summed into one (sparse, by ascending index). */
export function sumStoredCounts(list: readonly StoredCounts[]): StoredCounts {
  if (list.length === 1) return list[0]!
  let used = 0
  for (const { indices, counts } of list) {
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!
      if (i >= scratch.length) {
        let size = scratch.length
        while (size <= i) size *= 2
        const next = new Float64Array(size)
        next.set(scratch)
        scratch = next
      }
      scratch[i]! += counts[k]!
      if (i >= used) used = i + 1
    }
  }
  const indices: number[] = []
  const counts: number[] = []
  for (let i = 0; i < used; i++) {
    if (scratch[i]! > 0) {
      indices.push(i)
      counts.push(scratch[i]!)
      scratch[i] = 0
    }
  }
  return { indices, counts }
}

/** What JsHistogram declares but its typings leave out of the public interface. */
interface MergeCounts {
  countsArrayLength: number
  setCountAtIndex(index: number, value: number): void
  establishInternalTackingValues(lengthToCover: number): void
}

/** Sums stored counts; `histogram()` turns them into one histogram in the merge layout. */
export class CountsMerger {
  #counts = new Float64Array(4096)
  #used = 0
  total = 0

  add(stored: StoredCounts): void {
    const { indices, counts } = stored
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!
      if (i >= this.#counts.length) this.#grow(i)
      this.#counts[i]! += counts[k]!
      this.total += counts[k]!
      if (i >= this.#used) this.#used = i + 1
    }
  }

  histogram(): Histogram {
    const h = newMergeHistogram() as unknown as JsHistogram & MergeCounts
    if (this.#used > h.countsArrayLength) {
      // Beyond the merge layout (values over an hour): recorded value by value, the histogram resizes.
      for (let i = 0; i < this.#used; i++) {
        const n = this.#counts[i]!
        if (n > 0) h.recordValueWithCount(h.valueFromIndex(i), n)
      }
      return h as unknown as Histogram
    }
    // Same layout (1 µs, 2 digits): the summed counts are the merged histogram's counts array.
    for (let i = 0; i < this.#used; i++) {
      const n = this.#counts[i]!
      if (n > 0) h.setCountAtIndex(i, n)
    }
    h.establishInternalTackingValues(this.#used)
    return h as unknown as Histogram
  }

  /** `n` evenly spaced quantiles (the highest value of each quantile's bucket), in one pass. */
  quantiles(n: number): number[] {
    const out: number[] = []
    if (n <= 0 || this.total === 0) return out
    const h = layoutHistogram()
    let k = 0
    let rank = Math.max(1, Math.ceil(((k + 0.5) / n) * this.total))
    let seen = 0
    for (let i = 0; i < this.#used && k < n; i++) {
      seen += this.#counts[i]!
      if (k < n && seen >= rank) {
        const value = highestEquivalentAt(h, i)
        while (k < n && seen >= rank) {
          out.push(value)
          k++
          rank = Math.max(1, Math.ceil(((k + 0.5) / n) * this.total))
        }
      }
    }
    return out
  }

  #grow(index: number): void {
    let size = this.#counts.length
    while (size <= index) size *= 2
    const next = new Float64Array(size)
    next.set(this.#counts)
    this.#counts = next
  }
}
