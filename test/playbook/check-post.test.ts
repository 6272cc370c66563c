// `tandem check <system> --post` runs the post-migration checklist as a user would: exit 1 and the
// failing check's output while it fails, exit 0 once it passes; the pre-migration list is untouched.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { tandem } from '../support/cli.js'
import { system, tandemConfig, writeConfig } from '../support/config.js'

let dir: string
afterEach(async () => rm(dir, { recursive: true, force: true }))

describe('tandem check --post', () => {
  it('fails while the decommission check fails and passes once it does', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-check-post-'))
    const decommission = `test -f ${join(dir, 'legacy-stopped')} || (echo legacy still running; exit 1)`
    const orders = system('orders', {
      checklist: { tests: { command: 'true' }, post: { custom: [{ name: 'decommission', command: decommission }] } },
    })
    const file = writeConfig(dir, tandemConfig({ dir, systems: [orders] }))
    const failing = await tandem(['check', 'orders', '--post', '-c', file])
    expect(failing.code).toBe(1)
    expect(failing.stdout).toContain('post-migration checklist of orders (must pass before `tandem finalize`)')
    expect(failing.stdout).toMatch(/FAIL\s+custom:decommission/)
    expect(failing.stdout).toContain('legacy still running')
    // The pre-migration list is another list: it passes.
    expect((await tandem(['check', 'orders', '-c', file])).code).toBe(0)

    await writeFile(join(dir, 'legacy-stopped'), '')
    const passing = await tandem(['check', 'orders', '--post', '-c', file, '--json'])
    expect(passing.code).toBe(0)
    expect(JSON.parse(passing.stdout)).toMatchObject({ system: 'orders', list: 'post', ok: true })
  })
})
