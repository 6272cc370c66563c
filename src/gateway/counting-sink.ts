// A comparison sink that only counts exchanges and keeps the last ones: what an instance started
// without a comparison engine uses (the gateway tests, the gateway benchmark); `tandem up` and
// `tandem demo` always build the real one (`createInstance`, src/instance/create-instance.ts).
import type { ComparisonSink, Exchange } from '../compare/sink.js'

export class CountingSink implements ComparisonSink {
  submitted = 0
  /** The last exchanges, in a ring (no shifting of an array on the request path). */
  readonly #ring: Exchange[] = []
  readonly #keep: number

  constructor(keep = 100) {
    this.#keep = keep
  }

  submit(exchange: Exchange): void {
    this.#ring[this.submitted % this.#keep] = exchange
    this.submitted++
  }

  /** The last exchanges, oldest first, kept for inspection in tests (bounded). */
  get recent(): Exchange[] {
    const start = this.submitted % this.#keep
    return this.submitted <= this.#keep ? [...this.#ring] : [...this.#ring.slice(start), ...this.#ring.slice(0, start)]
  }
}
