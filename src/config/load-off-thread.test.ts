import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { TandemError } from '../errors.js'
import type { ConfigIssue } from './load.js'
import { loadConfigOffThread } from './load-off-thread.js'

const dir = mkdtempSync(join(tmpdir(), 'tandem-off-thread-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('loadConfigOffThread (the reload loader)', () => {
  it('answers a valid file with the same frozen Config as loadConfig', async () => {
    const config = await loadConfigOffThread(
      file('ok.yaml', 'version: 1\nsystems:\n  - name: db\n    kind: datastore\n'),
    )
    expect(config.systems[0]).toMatchObject({ name: 'db', kind: 'datastore' })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.systems[0]!.analysis)).toBe(true)
  }, 60_000)

  it('refuses an alias bomb and a missing file with their codes, not an internal error', async () => {
    // Billion laughs: each level aliases the previous one nine times.
    const names = [...'abcdefghi']
    const lol = names.map(
      (n, i) =>
        `${n}: &${n} [${Array(9)
          .fill(i === 0 ? 'lol' : `*${names[i - 1]}`)
          .join(', ')}]`,
    )
    const bomb = loadConfigOffThread(file('bomb.yaml', `version: 1\n${lol.join('\n')}\n`))
    await expect(bomb).rejects.toMatchObject({ code: 'TANDEM_ERR_CONFIG_PARSE' })
    const issues = (await bomb.catch((e: TandemError) => e.details)) as ConfigIssue[]
    expect(issues[0]).toMatchObject({ code: 'TANDEM_ERR_CONFIG_ALIAS' })
    await expect(loadConfigOffThread(join(dir, 'missing.yaml'))).rejects.toMatchObject({
      code: 'TANDEM_ERR_CONFIG_NOT_FOUND',
    })
  }, 60_000)
})
