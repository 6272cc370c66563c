// HDR histograms built in plain JavaScript. The package's index (and its build()) also loads its
// WebAssembly build, about 9 MB of resident memory the gateway never uses; the JS factory is enough.
import type { Histogram } from 'hdr-histogram-js'
import { constructorFromBucketSize } from 'hdr-histogram-js/dist/JsHistogramFactory.js'

export type { Histogram }

/** A histogram of integer values (microseconds here) with 2 significant digits, resized as needed. */
export function newHistogram(bitBucketSize: 32 | 'packed' = 32): Histogram {
  const Constructor = constructorFromBucketSize(bitBucketSize)
  const histogram = new Constructor(1, 2, 2)
  histogram.autoResize = true
  return histogram
}
