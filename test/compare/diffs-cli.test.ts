// `tandem diffs` as a user runs it: a real process reading the store the engine wrote.
import { beforeAll, describe, expect, it } from 'vitest'
import { tandem } from '../support/cli.js'
import { system, tandemConfig, writeConfig } from '../support/config.js'
import { temporaryDir } from '../support/temp-dir.js'
import { ComparisonEngine } from '../../src/compare/engine.js'
import { loadConfig } from '../../src/config/load.js'
import { openStore } from '../../src/store/open.js'
import type { CapturedResponse } from '../../src/compare/sink.js'

function res(value: unknown): CapturedResponse {
  return {
    ok: true,
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(value)),
    truncated: false,
    durationMs: 1,
  }
}

let dir: string
let file: string
beforeAll(async () => {
  dir = temporaryDir('tandem-diffs-')
  const arms = { legacy: 'http://127.0.0.1:1', candidate: 'http://127.0.0.1:2' }
  file = writeConfig(dir, tandemConfig({ dir, systems: [system('shop', arms), system('clean', arms)] }))
  const config = await loadConfig(file)
  const store = await openStore(config.store)
  const engine = new ComparisonEngine({ config, store })
  await engine.start()
  for (let i = 0; i < 20; i++) {
    const base = {
      system: 'shop',
      route: '/orders/:id',
      at: Date.now(),
      primary: 'legacy' as const,
      request: { method: 'GET', url: `/orders/${i}`, headers: {}, body: null },
    }
    engine.submit({
      ...base,
      legacy: res({ id: i, total: 10 }),
      candidate: res({ id: i, total: i % 4 === 0 ? 11 : 10 }),
    })
    engine.submit({ ...base, system: 'clean', legacy: res({ id: i }), candidate: res({ id: i }) })
  }
  await engine.close()
  await store.close()
})

describe('tandem diffs', () => {
  it('prints the SPEC 4 shape as JSON and exits 1 on a real difference', async () => {
    const { code, stdout } = await tandem(['diffs', 'shop', '--json', '-c', file])
    expect(code).toBe(1)
    const report = JSON.parse(stdout)
    expect(report.system).toBe('shop')
    expect(report.routes).toHaveLength(1)
    const route = report.routes[0]
    expect(route).toMatchObject({ route: '/orders/:id', compared: 20, matches: 15, mismatches: 5, skipped: 0 })
    expect(route.fields).toHaveLength(1)
    expect(route.fields[0]).toMatchObject({ path: '/total', kind: 'changed', raw: 5, noise: 0, real: true })
    expect(route.fields[0].samples).toHaveLength(5)
    expect(route.fields[0].samples[0].differences[0]).toMatchObject({ path: '/total', legacy: 10, candidate: 11 })
  })

  it('exits 0 when there is no real difference and prints a table on a terminal', async () => {
    const json = await tandem(['diffs', 'clean', '--json', '-c', file])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout).routes[0]).toMatchObject({ compared: 20, matches: 20, fields: [] })
    const text = await tandem(['diffs', 'shop', '-c', file])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/REAL\s+\/total\s+changed\s+5\s+0\s+20/)
  })

  it('an unknown system is a coded error with exit 2', async () => {
    const { code, stdout } = await tandem(['diffs', 'nope', '--json', '-c', file])
    expect(code).toBe(2)
    expect(JSON.parse(stdout).error.code).toBe('TANDEM_ERR_SYSTEM_NOT_FOUND')
  })
})
