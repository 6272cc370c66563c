// Flags (SPEC 12): OFREP single and bulk evaluations per second on the admin listener (against its own
// /healthz in the same run), adapter() overhead per call against calling the implementation directly,
// and the time from a rollback to the last of 50 adapters serving legacy.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import autocannon from 'autocannon'
import pino from 'pino'
import { request } from 'undici'
import { adapter } from '../src/flags/adapter.js'
import { createInstance } from '../src/instance/create-instance.js'
import type { BenchSection } from './section.js'

const TOKEN = 'flags-bench-token-0123456789'
const OPERATOR = 'operator-bench-token-0123456789'
const ADAPTERS = 50

async function act(admin: string, action: string): Promise<void> {
  const res = await request(`${admin}/api/v1/systems/checkout/actions/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
    body: '{"force":true}',
  })
  await res.body.dump()
  if (res.statusCode !== 200) throw new Error(`${action}: ${res.statusCode}`)
}

async function rate(url: string, body?: string): Promise<number> {
  const result = await autocannon({
    url,
    connections: 16,
    duration: 5,
    ...(body === undefined ? {} : { method: 'POST', body }),
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  })
  if (result.errors > 0 || result.non2xx > 0)
    throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx`)
  return result.requests.average
}

export async function run(): Promise<BenchSection> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-flags-'))
  const configFile = join(dir, 'tandem.yaml')
  await writeFile(
    configFile,
    `version: 1
admin: { tokens: [{ name: app, role: flags, token: ${TOKEN} }, { name: ops, role: operator, token: ${OPERATOR} }] }
store: sqlite:${join(dir, 'tandem.db')}
systems:
${Array.from({ length: 9 }, (_, i) => `  - { name: other-${i}, kind: code }`).join('\n')}
  - name: checkout
    kind: code
    rollout: { steps: [{ weight: 30, pause: 1h }, { weight: 100 }] }
    analysis: { interval: 1h }
`,
  )
  const instance = await createInstance({
    configFile,
    gatewayListen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    admin: { dashboard: false },
  })
  try {
    const admin = instance.adminUrl
    await act(admin, 'start')
    const healthz = await rate(`${admin}/healthz`)
    const single = await rate(
      `${admin}/ofrep/v1/evaluate/flags/checkout`,
      JSON.stringify({ context: { targetingKey: 'user-42', plan: 'pro' } }),
    )
    const bulk = await rate(
      `${admin}/ofrep/v1/evaluate/flags`,
      JSON.stringify({ context: { targetingKey: 'user-42' } }),
    )

    // adapter() overhead with the flag cached: the same implementation called directly and through it.
    const impl = async (id: string) => id.length
    const direct = impl
    const adapted = adapter(
      'checkout',
      { legacy: impl, candidate: impl },
      { admin, token: TOKEN, key: (id: string) => id, flushMs: 1000 },
    )
    await adapted.ready()
    const keys = Array.from({ length: 1000 }, (_, i) => `user-${i}`)
    const perCall = async (fn: (id: string) => Promise<number>): Promise<number> => {
      for (const k of keys) await fn(k)
      const rounds = 200
      const t0 = performance.now()
      for (let r = 0; r < rounds; r++) for (const k of keys) await fn(k)
      return ((performance.now() - t0) * 1000) / (rounds * keys.length)
    }
    const directUs = await perCall(direct)
    const adaptedUs = await perCall(adapted)
    await adapted.close()

    // Kill switch: 50 adapters at the default refresh interval; time until the last one serves legacy.
    const fleet = Array.from({ length: ADAPTERS }, (_, i) =>
      adapter(
        'checkout',
        { legacy: impl, candidate: impl },
        { admin, token: TOKEN, key: (id: string) => id, clientId: `bench-${i}` },
      ),
    )
    await Promise.all(fleet.map((a) => a.ready()))
    const refreshMs = fleet[0]!.flag.refreshMs
    const t0 = performance.now()
    await act(admin, 'rollback')
    const switched = new Array<number>(ADAPTERS).fill(0)
    while (switched.some((t) => t === 0) && performance.now() - t0 < 10_000) {
      fleet.forEach((a, i) => {
        if (switched[i] === 0 && a.flag.stage === 'rolled-back') switched[i] = performance.now() - t0
      })
      await new Promise((r) => setTimeout(r, 2))
    }
    await Promise.all(fleet.map((a) => a.close()))
    const last = Math.max(...switched)
    return {
      title: 'Flags (OFREP and adapter)',
      description:
        'OFREP on the admin listener with a flags token (autocannon, 16 connections, 5 s, client in the same ' +
        'process), 10 flags configured; adapter() per call with the flag cached.',
      rows: [
        {
          measure: 'OFREP single evaluation (tandem)',
          value: `${single.toFixed(0)} evals/s`,
          'vs peer': `${(single / healthz).toFixed(2)}x of /healthz`,
        },
        {
          measure: 'OFREP bulk evaluation, 10 flags (tandem)',
          value: `${bulk.toFixed(0)} req/s`,
          'vs peer': `${(bulk / healthz).toFixed(2)}x of /healthz`,
        },
        {
          measure: 'admin listener /healthz (peer: the floor)',
          value: `${healthz.toFixed(0)} req/s`,
          'vs peer': '1.00x',
        },
        {
          measure: 'adapter() call, flag cached (tandem)',
          value: `${adaptedUs.toFixed(2)} µs`,
          'vs peer': `+${(adaptedUs - directUs).toFixed(2)} µs`,
        },
        { measure: 'implementation called directly (peer)', value: `${directUs.toFixed(2)} µs`, 'vs peer': '-' },
        {
          measure: `rollback to the last of ${ADAPTERS} adapters serving legacy`,
          value: `${last.toFixed(0)} ms`,
          'vs peer': `refresh ${refreshMs} ms`,
        },
      ],
      notes: [
        'Targets (issue 17): >= 20k single evaluations/s on one core, <= 5 µs adapter overhead, ' +
          '< 1 s from rollback to the last adapter.',
        'The rollback time includes the operator action through the admin API and the store write.',
      ],
    }
  } finally {
    await instance.close()
    await rm(dir, { recursive: true, force: true })
  }
}
