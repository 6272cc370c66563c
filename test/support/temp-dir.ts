// Temporary directories for the test kit: each is removed when the test file that made it ends.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

const made: string[] = []
// Outside vitest (bench/) no test file ends: the caller removes what it makes.
if (process.env.VITEST !== undefined) {
  afterAll(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
}

/** A new directory under the system's temporary directory, removed when the test file ends. */
export function temporaryDir(prefix = 'tandem-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}
