// Regression tests for issue 12, defect 7: two `tandem up` on one SQLite file both ran the controller
// (every verdict doubled). The second is refused with a coded error naming the first one's pid; a
// lock left by a killed process is taken over; read-only verbs keep working beside a running one.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { lockStoreFile } from '../../src/store/file-lock.js'
import { tandem } from '../support/cli.js'
import { system, tandemConfig, writeConfig } from '../support/config.js'
import { temporaryDir } from '../support/temp-dir.js'
import { spawnUp } from '../support/up.js'

const dir = temporaryDir('tandem-lock-')

function configFile(name: string): { file: string; db: string } {
  const db = join(dir, `${name}.db`)
  const file = writeConfig(dir, tandemConfig({ store: `sqlite:${db}`, systems: [system('api')] }), `${name}.yaml`)
  return { file, db }
}

// Each case spawns several CLI processes; on two shared cores that can take minutes.
describe('one tandem up per SQLite file', { timeout: 240_000 }, () => {
  it('refuses a second tandem up with a coded error naming the first, while read-only verbs still work', async () => {
    const { file, db } = configFile('two')
    const running = await spawnUp(file)
    const first = running.child
    expect(readFileSync(`${db}.lock`, 'utf8').trim()).toBe(String(first.pid))

    const second = await tandem(['up', '-c', file])
    expect(second.code).toBe(2)
    expect(second.stderr).toContain('TANDEM_ERR_STORE_LOCKED')
    expect(second.stderr).toContain(`pid ${first.pid}`)
    expect(second.stderr).toContain(db)
    expect(first.exitCode).toBeNull()

    // `tandem report` and `tandem check` read the store directly and take no lock.
    const report = await tandem(['report', '--json', '-c', file])
    expect(report.code).toBe(0)
    expect(JSON.parse(report.stdout).kpis.systemsTotal).toBe(1)
    const check = await tandem(['check', 'api', '--json', '-c', file])
    expect(JSON.parse(check.stdout).system).toBe('api')

    // A clean stop releases the lock.
    await running.stop()
    expect(existsSync(`${db}.lock`)).toBe(false)
  })

  it('takes over the lock of a tandem up that was killed', async () => {
    const { file, db } = configFile('killed')
    const first = await spawnUp(file)
    await first.kill()
    expect(readFileSync(`${db}.lock`, 'utf8').trim()).toBe(String(first.child.pid)) // stale: its pid is dead
    const second = await spawnUp(file)
    expect(readFileSync(`${db}.lock`, 'utf8').trim()).toBe(String(second.child.pid))
    await second.stop()
  })
})

describe('lockStoreFile', () => {
  it('refuses while a live process holds the lock, and releases only its own lock', () => {
    const db = join(dir, 'unit.db')
    const mine = lockStoreFile(db) // held by this (live) test process
    // Another process id asking for it is refused, naming the holder.
    expect(() => lockStoreFile(db, process.pid + 1)).toThrow(
      expect.objectContaining({
        code: 'TANDEM_ERR_STORE_LOCKED',
        message: expect.stringContaining(`pid ${process.pid}`),
      }),
    )
    expect(readFileSync(`${db}.lock`, 'utf8').trim()).toBe(String(process.pid))
    mine.release()
    expect(existsSync(`${db}.lock`)).toBe(false)
  })

  it('takes over a lock holding no pid or its own pid (a restarted container is pid 1 again)', () => {
    const db = join(dir, 'stale.db')
    for (const stale of ['', 'garbage\n', `${process.pid}\n`]) {
      writeFileSync(`${db}.lock`, stale)
      const lock = lockStoreFile(db)
      expect(readFileSync(`${db}.lock`, 'utf8').trim()).toBe(String(process.pid))
      lock.release()
    }
  })
})
