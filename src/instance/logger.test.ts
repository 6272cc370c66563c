// The log of `tandem up` masks URL passwords and secret parameters in every line, error stacks included.
import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.js'

describe('createLogger', () => {
  it('never writes a URL password or token, and keeps the rest of the line', () => {
    const lines: string[] = []
    const logger = createLogger({ write: (line: string) => void lines.push(line) })
    const cause = new Error('connect ECONNREFUSED 10.0.0.5:5432 (postgres://app:LogPw-81d2@10.0.0.5:5432/app)')
    logger.error(
      { err: new Error('store lost', { cause }), hook: 'https://hooks.example.com/x?token=LogTok-5c0e' },
      'rollout controller error',
    )
    const text = lines.join('')
    expect(text).not.toContain('LogPw-81d2')
    expect(text).not.toContain('LogTok-5c0e')
    expect(text).toContain('postgres://app:***@10.0.0.5:5432/app')
    expect(JSON.parse(lines[0]!)).toMatchObject({
      msg: 'rollout controller error',
      hook: 'https://hooks.example.com/x?token=***',
    })
  })
})
