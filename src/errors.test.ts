import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERRORS, TandemError } from './errors.js'

describe('error registry', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')

  it('documents every code in docs/errors.md with its status and exit code', () => {
    for (const [code, def] of Object.entries(ERRORS)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| ${code} |`))
      expect(row, `${code} is missing from docs/errors.md`).toBeDefined()
      expect(row).toContain(`| ${def.status} | ${def.exit} |`)
    }
  })

  it('fills message templates and keeps the code, status and exit code', () => {
    const e = new TandemError('TANDEM_ERR_SYSTEM_NOT_FOUND', { system: 'todo-api' })
    expect(e.message).toContain('"todo-api"')
    expect(e.toJSON()).toEqual({ code: 'TANDEM_ERR_SYSTEM_NOT_FOUND', message: e.message })
    expect(e.status).toBe(404)
    expect(e.exitCode).toBe(2)
  })

  it('says what to do in every message', () => {
    for (const [code, def] of Object.entries(ERRORS)) {
      expect(def.message.length, code).toBeGreaterThan(15)
    }
  })
})
