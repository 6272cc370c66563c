// Regression tests for issue 12, defect 6: an empty or damaged SQLite store file is refused with a
// coded error naming the file, never taken as a fresh store, and never rewritten.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../src/store/open.js'
import { getState } from '../../src/store/system-state.js'
import { damage, promotedStore } from '../support/store-damage.js'

const dir = mkdtempSync(join(tmpdir(), 'tandem-store-file-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const fresh = () => join(dir, `s${n++}`, 'tandem.db')

describe('SQLite store file', () => {
  it('a missing file is a fresh store', async () => {
    const file = fresh()
    const store = await openStore(`sqlite:${file}`)
    expect((await getState(store, 'ledger')).stage).toBe('pending')
    await store.close()
    expect(statSync(file).size).toBeGreaterThan(0)
  })

  it('refuses a 0-byte file instead of starting fresh, and leaves it as it was', async () => {
    const file = fresh()
    await promotedStore(file)
    writeFileSync(file, '') // truncated, e.g. by a failed copy
    await expect(openStore(`sqlite:${file}`)).rejects.toMatchObject({
      code: 'TANDEM_ERR_STORE_EMPTY',
      message: expect.stringContaining(file),
    })
    expect(statSync(file).size).toBe(0)
    expect(existsSync(`${file}-wal`)).toBe(false)
  })

  it('refuses a file damaged in the middle with a coded error naming the file, and leaves it as it was', async () => {
    const file = fresh()
    await promotedStore(file)
    const size = statSync(file).size
    damage(file, Math.floor(size / 2 / 4096) * 4096, 3 * 4096)
    const before = readFileSync(file)
    const error = await openStore(`sqlite:${file}`).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TANDEM_ERR_STORE_CORRUPT', exitCode: 2 })
    expect((error as Error).message).toContain(file)
    expect((error as Error).message).toContain('restore')
    expect(readFileSync(file).equals(before)).toBe(true)
  })

  it('refuses a file that is not a database', async () => {
    const file = fresh()
    await promotedStore(file)
    writeFileSync(file, 'this is a note, not a database\n'.repeat(300))
    await expect(openStore(`sqlite:${file}`)).rejects.toMatchObject({
      code: 'TANDEM_ERR_STORE_CORRUPT',
      message: expect.stringContaining(file),
    })
  })

  it('opens a sound file with its state', async () => {
    const file = fresh()
    await promotedStore(file)
    const store: Store = await openStore(`sqlite:${file}`)
    expect((await getState(store, 'ledger')).stage).toBe('promoted')
    await store.close()
  })
})
