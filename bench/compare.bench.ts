// Comparison throughput: 10 KB JSON bodies per second on one core (target >= 20 000/s) against peers
// in the same run (JSON.stringify equality, microdiff), and large bodies inline vs in worker threads.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import diffPeer from 'microdiff'
import { parseConfig } from '../src/config/load.js'
import { compareExchange, compileCompareSettings, type CompareConfig } from '../src/compare/compare-exchange.js'
import { diff, NO_OPTIONS } from '../src/compare/diff.js'
import { ComparisonEngine } from '../src/compare/engine.js'
import type { CapturedResponse, Exchange } from '../src/compare/sink.js'
import type { BenchSection } from './section.js'

function doc(items: number, changed: boolean): unknown {
  return {
    meta: { page: 1, total: items },
    items: Array.from({ length: items }, (_, i) => ({
      id: i,
      sku: `SKU-${String(i).padStart(6, '0')}`,
      name: `Product number ${i}`,
      price: changed && i === 7 ? 12.5 : 10.25,
      tags: ['a', 'b', i % 2 === 0 ? 'even' : 'odd'],
      stock: { warehouse: 'north', count: i * 3 },
    })),
  }
}

/** Items needed for a body of about `bytes` bytes. */
function itemsFor(bytes: number): number {
  const one = JSON.stringify(doc(1, false)).length
  return Math.max(1, Math.round(bytes / (JSON.stringify(doc(2, false)).length - one)))
}

function res(body: string): CapturedResponse {
  return {
    ok: true,
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(body),
    truncated: false,
    durationMs: 1,
  }
}

function exchange(legacy: string, candidate: string): Exchange {
  return {
    system: 'bench',
    route: '/items',
    at: Date.now(),
    primary: 'legacy',
    request: { method: 'GET', url: '/items', headers: {}, body: null },
    legacy: res(legacy),
    candidate: res(candidate),
  }
}

/** Operations per second of `fn`, run for about `ms` after a warm-up. */
function rate(fn: () => void, ms = 1000): number {
  for (let i = 0; i < 200; i++) fn()
  let n = 0
  const start = performance.now()
  let now = start
  while (now - start < ms) {
    for (let i = 0; i < 100; i++) fn()
    n += 100
    now = performance.now()
  }
  return (n * 1000) / (now - start)
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')

/** Exchanges per second through the engine, and the event loop's p99 delay meanwhile (ms). */
async function engineRate(
  bodies: [string, string],
  count: number,
  workerThreshold: number,
): Promise<{ rate: number; delayP99: number }> {
  const delay = monitorEventLoopDelay({ resolution: 5 })
  const config = parseConfig('version: 1\n')
  const engine = new ComparisonEngine({ config, workerThreshold, workers: 2, queueLimit: count + 1 })
  let done = 0
  let dropped = 0
  engine.onRecord((r) => {
    done++
    if (r.result === 'skipped') dropped++
  })
  // Warm up: start the workers (tsx loads in each) before measuring.
  for (let i = 0; i < 4; i++) engine.submit(exchange(bodies[0], bodies[1]))
  await engine.idle(120_000)
  done = 0
  delay.enable()
  const start = performance.now()
  // Submit in waves the pool can hold, as a gateway under steady load would.
  for (let i = 0; i < count; i++) {
    engine.submit(exchange(bodies[0], bodies[1]))
    if (i % 8 === 7) await engine.idle()
  }
  await engine.idle(120_000)
  const elapsed = performance.now() - start
  delay.disable()
  await engine.close()
  if (dropped > 0) throw new Error(`benchmark dropped ${dropped} of ${done}`)
  return { rate: (count * 1000) / elapsed, delayP99: delay.percentile(99) / 1e6 }
}

export async function run(): Promise<BenchSection> {
  const n10k = itemsFor(10 * 1024)
  const a = JSON.stringify(doc(n10k, false))
  const same = JSON.stringify(doc(n10k, false))
  const changed = JSON.stringify(doc(n10k, true))
  const pa = JSON.parse(a) as object
  const pb = JSON.parse(changed) as object
  const settings = compileCompareSettings(defaultCompare() as CompareConfig)
  // Same content, different bytes (one extra space), so the identical-bytes shortcut does not apply.
  const exSame = exchange(a, same.replace('"meta":{', '"meta": {'))
  const exIdentical = exchange(a, same)
  const exChanged = exchange(a, changed)

  const tandemFull = rate(() => void compareExchange(exSame, settings))
  const tandemIdentical = rate(() => void compareExchange(exIdentical, settings))
  const tandemFullChanged = rate(() => void compareExchange(exChanged, settings, () => false))
  const naive = rate(() => void (JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(same))))
  const peerFull = rate(() => void diffPeer(JSON.parse(a) as object, JSON.parse(changed) as object))
  const tandemDiff = rate(() => void diff(pa, pb, NO_OPTIONS))
  const peerDiff = rate(() => void diffPeer(pa, pb))

  const big = itemsFor(1024 * 1024)
  const bigBodies: [string, string] = [JSON.stringify(doc(big, false)), JSON.stringify(doc(big, true))]
  const inline = await engineRate(bigBodies, 40, Number.MAX_SAFE_INTEGER)
  const workers = await engineRate(bigBodies, 40, 256 * 1024)

  return {
    title: 'Response comparison',
    description:
      `Bodies of ${(a.length / 1024).toFixed(1)} KB JSON (${n10k} items), one core; "full" includes` +
      ` decoding and JSON.parse of both bodies.`,
    rows: [
      {
        case: 'tandem compareExchange, byte-identical bodies',
        'ops/s': fmt(tandemIdentical),
        'vs naive': (tandemIdentical / naive).toFixed(2),
      },
      {
        case: 'tandem compareExchange, equal JSON, different bytes (full)',
        'ops/s': fmt(tandemFull),
        'vs naive': (tandemFull / naive).toFixed(2),
      },
      {
        case: 'tandem compareExchange, one changed field (full)',
        'ops/s': fmt(tandemFullChanged),
        'vs naive': (tandemFullChanged / naive).toFixed(2),
      },
      { case: 'peer: JSON.parse + JSON.stringify equality (no paths)', 'ops/s': fmt(naive), 'vs naive': '1.00' },
      { case: 'peer: JSON.parse + microdiff', 'ops/s': fmt(peerFull), 'vs naive': (peerFull / naive).toFixed(2) },
      { case: 'tandem diff on parsed values', 'ops/s': fmt(tandemDiff), 'vs naive': (tandemDiff / naive).toFixed(2) },
      { case: 'peer: microdiff on parsed values', 'ops/s': fmt(peerDiff), 'vs naive': (peerDiff / naive).toFixed(2) },
      {
        case:
          `engine, ${(bigBodies[0].length / 2 ** 20).toFixed(1)} MiB bodies inline (event loop p99 delay` +
          ` ${inline.delayP99.toFixed(0)} ms)`,
        'ops/s': inline.rate.toFixed(1),
        'vs naive': '',
      },
      {
        case:
          `engine, ${(bigBodies[0].length / 2 ** 20).toFixed(1)} MiB bodies in 2 worker threads (event loop p99` +
          ` delay ${workers.delayP99.toFixed(0)} ms)`,
        'ops/s': workers.rate.toFixed(1),
        'vs naive': '',
      },
    ],
    notes: [
      `tandem full comparison: ${fmt(tandemFull)}/s (target >= 20 000/s); ${(tandemDiff / peerDiff).toFixed(2)}x` +
        ` microdiff on parsed values.`,
      'Worker threads keep the event loop free for the gateway; their throughput gain depends on free cores (the' +
        ' large-body rows include structured-clone copies).',
    ],
  }
}

function defaultCompare(): unknown {
  return parseConfig(
    'version: 1\nsystems:\n  - { name: x, legacy: { url: "http://a" }, candidate: { url: "http://b" }, routes: [{ path: /x }] }\n',
  ).systems[0]!.compare
}
