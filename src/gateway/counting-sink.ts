// A comparison sink that only counts exchanges, used until the comparison engine (src/compare/) is
// plugged in through startInstance({ comparisons }).
import type { ComparisonSink, Exchange } from '../compare/sink.js'

export class CountingSink implements ComparisonSink {
  submitted = 0
  /** The last exchanges, kept for inspection in tests (bounded). */
  readonly recent: Exchange[] = []
  readonly #keep: number

  constructor(keep = 100) {
    this.#keep = keep
  }

  submit(exchange: Exchange): void {
    this.submitted++
    this.recent.push(exchange)
    if (this.recent.length > this.#keep) this.recent.shift()
  }
}
