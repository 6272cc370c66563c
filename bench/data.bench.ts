// data diff on a large PostgreSQL table with 10 changed rows (two schemas of the local server), against
// SELECT count(*) on both sides and a naive ordered full-scan comparison in Node. Rows:
// TANDEM_BENCH_DATA_ROWS (default 10 000 000). Tables are dropped afterwards.
import pg from 'pg'
import { dataDiff } from '../src/data/diff.js'
import { verifyChangedRows } from '../src/data/changed-rows.js'
import { planDiff } from '../src/data/plan.js'
import { openSource } from '../src/data/open-source.js'
import type { BenchSection } from './section.js'

const URL_PG = process.env.TANDEM_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test'

async function sql(text: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: URL_PG })
  await c.connect()
  try {
    return await c.query(text)
  } finally {
    await c.end()
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now()
  const value = await fn()
  return { ms: performance.now() - t0, value }
}

/** Stream a table ordered by key through a server-side cursor, in batches. */
async function* scan(table: string): AsyncGenerator<unknown[][]> {
  const c = new pg.Client({ connectionString: URL_PG })
  await c.connect()
  try {
    await c.query('BEGIN')
    await c.query(
      `DECLARE cur NO SCROLL CURSOR FOR SELECT id, name, amount, created_at, active FROM ${table} ORDER BY id`,
    )
    for (;;) {
      const r = await c.query({ text: 'FETCH 20000 FROM cur', rowMode: 'array' })
      if (r.rows.length === 0) break
      yield r.rows as unknown[][]
    }
    await c.query('COMMIT')
  } finally {
    await c.end()
  }
}

/** The naive peer: merge two key-ordered streams and compare rows field by field. */
async function naiveDiff(a: string, b: string): Promise<number> {
  const left = scan(a)[Symbol.asyncIterator]()
  const right = scan(b)[Symbol.asyncIterator]()
  let la: unknown[][] = []
  let lb: unknown[][] = []
  let i = 0
  let j = 0
  let diffs = 0
  const key = (r: unknown[]): number => Number(r[0])
  for (;;) {
    if (i >= la.length) {
      const n = await left.next()
      la = n.done ? [] : n.value
      i = 0
    }
    if (j >= lb.length) {
      const n = await right.next()
      lb = n.done ? [] : n.value
      j = 0
    }
    const ra = la[i]
    const rb = lb[j]
    if (!ra && !rb) break
    if (ra && (!rb || key(ra) < key(rb))) {
      diffs++
      i++
    } else if (rb && (!ra || key(rb) < key(ra))) {
      diffs++
      j++
    } else {
      if (JSON.stringify(ra) !== JSON.stringify(rb)) diffs++
      i++
      j++
    }
  }
  return diffs
}

/** Incremental verification (SPEC 13): the 1 000 rows whose created_at lies in a 1 000-second window. */
async function incremental(
  a: string,
  b: string,
  n: number,
): Promise<{ ms: number; checked: number; differing: number }> {
  const [from, to] = [await openSource(URL_PG, { readonly: true }), await openSource(URL_PG, { readonly: true })]
  try {
    const plan = await planDiff(from, to, { table: a, toTable: b })
    const since = Date.parse('2024-01-01T00:00:00Z') + Math.floor(n / 2) * 1000
    const t = await timed(() => verifyChangedRows(plan, 'created_at', since, since + 1_000_000))
    return { ms: t.ms, checked: t.value.rowsChecked, differing: t.value.rows.length }
  } finally {
    await Promise.all([from.close(), to.close()])
  }
}

const HASH = 'hash_record_extended(ROW(id, name, amount, created_at, active), 0)::numeric'

export async function run(): Promise<BenchSection> {
  const rows = Number(process.env.TANDEM_BENCH_DATA_ROWS ?? 10_000_000)
  const tag = `${process.pid}_${Date.now().toString(36)}`
  const [sa, sb] = [`bench_data_a_${tag}`, `bench_data_b_${tag}`]
  const [a, b] = [`${sa}.t`, `${sb}.t`]
  try {
    await sql(`CREATE SCHEMA ${sa}; CREATE SCHEMA ${sb}`)
    await sql(
      `CREATE TABLE ${a} AS SELECT g AS id, 'name ' || g AS name, (g % 100000) / 100.0 AS amount,
         timestamptz '2024-01-01' + g * interval '1 second' AS created_at, g % 3 = 0 AS active
       FROM generate_series(1, ${rows}) g`,
    )
    await sql(`ALTER TABLE ${a} ADD PRIMARY KEY (id)`)
    await sql(`CREATE TABLE ${b} AS SELECT * FROM ${a}`)
    await sql(`ALTER TABLE ${b} ADD PRIMARY KEY (id)`)
    const step = Math.floor(rows / 10)
    await sql(
      `UPDATE ${b} SET name = name || ' changed' WHERE id IN` +
        ` (${Array.from({ length: 10 }, (_, k) => 1 + k * step).join(', ')})`,
    )
    // A tenth-size copy: incremental verification should cost the same on both sizes.
    const [small, smallB] = [`${sa}.s`, `${sb}.s`]
    await sql(
      `CREATE TABLE ${small} AS SELECT * FROM ${a} WHERE id <= ${Math.ceil(rows / 10)}; ALTER TABLE ${small} ADD` +
        ` PRIMARY KEY (id)`,
    )
    await sql(`CREATE TABLE ${smallB} AS SELECT * FROM ${small}; ALTER TABLE ${smallB} ADD PRIMARY KEY (id)`)
    for (const t of [a, b, small, smallB]) await sql(`CREATE INDEX ON ${t} (created_at)`)
    await sql(`VACUUM ANALYZE ${a}`)
    await sql(`VACUUM ANALYZE ${b}`)
    await sql(`VACUUM ANALYZE ${small}`)
    await sql(`VACUUM ANALYZE ${smallB}`)

    const count = await timed(() => Promise.all([sql(`SELECT count(*) FROM ${a}`), sql(`SELECT count(*) FROM ${b}`)]))
    const floor = await timed(() =>
      Promise.all([sql(`SELECT count(*), sum(${HASH}) FROM ${a}`), sql(`SELECT count(*), sum(${HASH}) FROM ${b}`)]),
    )
    const serial = await timed(() => dataDiff({ from: URL_PG, to: URL_PG, table: a, toTable: b, parallel: 1 }))
    const fast = await timed(() => dataDiff({ from: URL_PG, to: URL_PG, table: a, toTable: b }))
    const incBig = await incremental(a, b, rows)
    const incSmall = await incremental(small, smallB, Math.ceil(rows / 10))
    const portable = await timed(() => dataDiff({ from: URL_PG, to: URL_PG, table: a, toTable: b, hash: 'portable' }))
    const naive = await timed(() => naiveDiff(a, b))
    const found = [fast.value.changed, portable.value.changed, naive.value]
    const ratio = (ms: number): string => `${(ms / count.ms).toFixed(1)}x`
    return {
      title: 'Data diff (PostgreSQL -> PostgreSQL)',
      description:
        `${rows.toLocaleString('en-US')} rows, 10 changed; both sides in the same local PostgreSQL (two` +
        ` schemas). Ratios are against SELECT count(*) run on both sides at once.`,
      rows: [
        { method: 'SELECT count(*) on both sides', ms: Math.round(count.ms), 'vs count(*)': '1.0x', differences: '-' },
        {
          method: 'one sum(hash_record_extended) scan per side (the floor)',
          ms: Math.round(floor.ms),
          'vs count(*)': ratio(floor.ms),
          differences: '-',
        },
        {
          method: 'tandem data diff, one connection per side',
          ms: Math.round(serial.ms),
          'vs count(*)': ratio(serial.ms),
          differences: serial.value.changed,
        },
        {
          method: 'tandem data diff (hash_record_extended, parallel segments)',
          ms: Math.round(fast.ms),
          'vs count(*)': ratio(fast.ms),
          differences: found[0] ?? 0,
        },
        {
          method: 'tandem data diff (portable md5 hash)',
          ms: Math.round(portable.ms),
          'vs count(*)': ratio(portable.ms),
          differences: found[1] ?? 0,
        },
        {
          method: 'naive ordered full scan in Node',
          ms: Math.round(naive.ms),
          'vs count(*)': ratio(naive.ms),
          differences: found[2] ?? 0,
        },
      ],
      notes: [
        `parallel segments vs the sum(hash) floor: ${(fast.ms / floor.ms).toFixed(2)}x; one connection per side:` +
          ` ${(serial.ms / floor.ms).toFixed(2)}x`,
        `incremental verification (${incBig.checked} changed rows by updatedAt): ${Math.round(incBig.ms)} ms on` +
          ` ${rows.toLocaleString('en-US')} rows, ${Math.round(incSmall.ms)} ms on` +
          ` ${Math.ceil(rows / 10).toLocaleString('en-US')} rows (${incBig.differing} differing)`,
        `data diff (fast) vs naive full scan: ${(naive.ms / fast.ms).toFixed(1)}x faster; portable:` +
          ` ${(naive.ms / portable.ms).toFixed(1)}x faster`,
        `fast path: ${fast.value.stats.checksumQueries} checksum queries, ${fast.value.stats.rowsDownloaded} rows` +
          ` downloaded, depth ${fast.value.stats.maxDepth}`,
        `portable path: ${portable.value.stats.checksumQueries} checksum queries,` +
          ` ${portable.value.stats.rowsDownloaded} rows downloaded, depth ${portable.value.stats.maxDepth}`,
        'data diff is timed as a library call (the engine `tandem data diff` runs), without the CLI process start-up.',
      ],
    }
  } finally {
    await sql(`DROP SCHEMA IF EXISTS ${sa} CASCADE; DROP SCHEMA IF EXISTS ${sb} CASCADE`)
  }
}
