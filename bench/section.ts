// What a benchmark script returns to bench/run.ts: a titled table and notes.
export interface BenchSection {
  readonly title: string
  readonly description?: string
  readonly rows: ReadonlyArray<Record<string, string | number>>
  readonly notes: readonly string[]
}
