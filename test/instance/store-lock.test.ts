// Regression tests for issue 12, defect 7: two `tandem up` on one SQLite file both ran the controller
// (every verdict doubled). The second is refused with a coded error naming the first one's pid; a
// lock left by a killed process is taken over; read-only verbs keep working beside a running one.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { lockStoreFile } from '../../src/store/file-lock.js'
import { BIN, tandem } from '../support/cli.js'
import { removeDir } from '../gateway/fixtures/harness.js'

const dir = mkdtempSync(join(tmpdir(), 'tandem-lock-'))
afterAll(() => removeDir(dir))
const running: ChildProcess[] = []
afterAll(async () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) {
    c.kill('SIGKILL')
    await once(c, 'exit').catch(() => undefined)
  }
})

function configFile(name: string): { file: string; db: string } {
  const db = join(dir, `${name}.db`)
  const file = join(dir, `${name}.yaml`)
  writeFileSync(file, `version: 1
gateway: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
store: sqlite:${db}
systems:
  - name: api
    legacy: { url: http://127.0.0.1:9 }
    candidate: { url: http://127.0.0.1:9 }
    routes: [{ path: /** }]
`)
  return { file, db }
}

async function up(file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'up', '--json', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] })
  running.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
  await vi.waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`tandem up exited ${child.exitCode}: ${stderr}`)
      JSON.parse(stdout)
    },
    { timeout: 60_000, interval: 100 },
  )
  return child
}

// Each case spawns several CLI processes; on two shared cores that can take minutes.
describe('one tandem up per SQLite file', { timeout: 240_000 }, () => {
  it('refuses a second tandem up with a coded error naming the first, while read-only verbs still work', async () => {
    const { file, db } = configFile('two')
    const first = await up(file)
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
    const exited = once(first, 'exit')
    first.kill('SIGTERM')
    await exited
    expect(existsSync(`${db}.lock`)).toBe(false)
  })

  it('takes over the lock of a tandem up that was killed', async () => {
    const { file, db } = configFile('killed')
    const first = await up(file)
    const exited = once(first, 'exit')
    first.kill('SIGKILL')
    await exited
    expect(readFileSync(`${db}.lock`, 'utf8').trim()).toBe(String(first.pid)) // stale: its pid is dead
    const second = await up(file)
    expect(readFileSync(`${db}.lock`, 'utf8').trim()).toBe(String(second.pid))
    second.kill('SIGTERM')
    await once(second, 'exit')
  })
})

describe('lockStoreFile', () => {
  it('refuses while a live process holds the lock, and releases only its own lock', () => {
    const db = join(dir, 'unit.db')
    const mine = lockStoreFile(db) // held by this (live) test process
    // Another process id asking for it is refused, naming the holder.
    expect(() => lockStoreFile(db, process.pid + 1)).toThrow(expect.objectContaining({ code: 'TANDEM_ERR_STORE_LOCKED', message: expect.stringContaining(`pid ${process.pid}`) }))
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
