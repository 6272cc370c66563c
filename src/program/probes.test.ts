import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { capOutput, OUTPUT_CAP, probeNonEmptyFile, probePath, runCommand } from './probes.js'

describe('probes', () => {
  it('keeps the head and the tail of long output within the cap', () => {
    const text = `FIRST ${'x'.repeat(OUTPUT_CAP * 3)} LAST`
    const capped = capOutput(text)
    expect(capped.length).toBeLessThanOrEqual(OUTPUT_CAP + 60)
    expect(capped.startsWith('FIRST')).toBe(true)
    expect(capped.endsWith('LAST')).toBe(true)
    expect(capped).toContain('characters cut')
    expect(capOutput('short')).toBe('short')
  })

  it('passes a command that exits 0 and fails one that does not, with stdout and stderr', async () => {
    const ok = await runCommand('echo out; echo err >&2', 10_000)
    expect(ok).toMatchObject({ ok: true, exitCode: 0 })
    expect(ok.output).toContain('out')
    expect(ok.output).toContain('err')
    const bad = await runCommand('exit 7', 10_000)
    expect(bad).toMatchObject({ ok: false, exitCode: 7 })
    expect(bad.output).toContain('(exit 7)')
  })

  it('kills a command that outlives its timeout, children included', async () => {
    // The background sleep holds the output pipe: were it not killed with the group, this would not
    // resolve before the test's own timeout.
    const r = await runCommand('sleep 120 & sleep 120; echo finished-$((40+2))', 300)
    expect(r.ok).toBe(false)
    expect(r.exitCode).toBeNull()
    expect(r.output).toContain('timed out after 300 ms')
    expect(r.output).not.toContain('finished-42')
  })

  it('runs an argv without a shell and reports a missing program', async () => {
    const r = await runCommand(['/nonexistent/program', '--flag'], 5_000)
    expect(r.ok).toBe(false)
    expect(r.output).toContain('cannot run')
  })

  it('checks paths and non-empty files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-probe-'))
    try {
      const file = join(dir, 'plan.md')
      expect((await probePath(file)).ok).toBe(false)
      await writeFile(file, '')
      expect((await probePath(file)).ok).toBe(true)
      expect(await probeNonEmptyFile(file)).toMatchObject({ ok: false, output: expect.stringContaining('is empty') })
      await writeFile(file, 'roll back')
      expect((await probeNonEmptyFile(file)).ok).toBe(true)
      expect((await probeNonEmptyFile(dir)).ok).toBe(false)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
