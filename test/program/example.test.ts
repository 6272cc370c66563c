// The example program validates and reports from a fresh working directory (empty store: zeros).
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.js'
import { waveOf, waveStatus } from '../../src/program/waves.js'
import { ROOT, tandem } from '../support/cli.js'

const EXAMPLE = join(ROOT, 'examples/program/tandem.yaml')

describe('examples/program', () => {
  let cwd: string
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'tandem-example-'))
  })
  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true })
  })

  it('has 52 systems in the five categories and four waves by priority', async () => {
    const config = await loadConfig(EXAMPLE)
    const byCategory: Record<string, number> = {}
    for (const s of config.systems) byCategory[s.category] = (byCategory[s.category] ?? 0) + 1
    expect(byCategory).toEqual({ todo: 15, api: 12, 'data-processing': 8, monitoring: 5, experimental: 12 })
    expect(config.waves.map((w) => w.name)).toEqual(['pilot', 'expansion', 'majority', 'completion'])
    const expected: Record<string, string> = {
      P0: 'pilot',
      P1: 'expansion',
      P2: 'majority',
      P3: 'majority',
      P4: 'completion',
    }
    for (const s of config.systems) expect(waveOf(config, s)?.name, s.name).toBe(expected[s.priority])
    const waves = waveStatus(config, [])
    expect(waves.reduce((n, w) => n + w.systems.length, 0)).toBe(52)
    expect(waves.map((w) => w.open)).toEqual([true, false, false, false])
    // Every URL stays on loopback.
    for (const s of config.systems)
      for (const t of [s.legacy, s.candidate]) if (t) expect(t.url).toMatch(/^http:\/\/127\.0\.0\.1:/)
  })

  it('validates with `tandem validate`', async () => {
    const r = await tandem(['validate', '-c', EXAMPLE, '--json'], cwd)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, systems: 52, waves: 4 })
  })

  it('reports zeros from an empty store in json, md and html', async () => {
    const json = await tandem(['report', '-c', EXAMPLE, '--format', 'json'], cwd)
    expect(json.code, json.stderr).toBe(0)
    const report = JSON.parse(json.stdout)
    expect(report.kpis).toMatchObject({
      systemsMigrated: 0,
      systemsTotal: 52,
      rollbackCount: 0,
      failedMigrations: 0,
      migrationRate: 0,
    })
    expect(report.systems).toHaveLength(52)
    expect(report.waves.map((w: { systems: string[] }) => w.systems.length)).toEqual([4, 10, 26, 12])
    // The store named in the config was created in the working directory.
    expect((await stat(join(cwd, '.tandem/program-example.db'))).isFile()).toBe(true)

    const md = await tandem(['report', '-c', EXAMPLE, '--format', 'md'], cwd)
    expect(md.code, md.stderr).toBe(0)
    expect(md.stdout).toContain('| Systems migrated (`systemsMigrated`) | 0 / 52 |')
    expect(md.stdout).toContain('| exp-dark-mode | experimental | P4 | completion | pending |')

    const out = join(cwd, 'report.html')
    const html = await tandem(['report', '-c', EXAMPLE, '--format', 'html', '--output', out], cwd)
    expect(html.code, html.stderr).toBe(0)
    expect((await stat(out)).size).toBeGreaterThan(10_000)
  })
})
