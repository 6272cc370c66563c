import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ERRORS, TandemError } from './errors.js'

const SRC = fileURLToPath(new URL('.', import.meta.url))
const CODE = /TANDEM_ERR_[A-Z0-9_]+/g

/** Every non-test source file under src/, with its text. */
function sources(dir = SRC): Array<{ file: string; text: string }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'dist' ? [] : sources(path)
    return /\.(ts|mjs)$/.test(entry.name) && !entry.name.endsWith('.test.ts')
      ? [{ file: path, text: readFileSync(path, 'utf8') }]
      : []
  })
}

describe('error registry', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  const documented = new Set(doc.split('\n').flatMap((l) => /^\| (TANDEM_ERR_[A-Z0-9_]+) \|/.exec(l)?.[1] ?? []))
  const registered = new Set(Object.keys(ERRORS))
  // The registry's own definitions are not uses: drop each area's `NAME_ERRORS = define({ ... })` block from
  // src/errors/ (errors.ts only assembles them).
  const registry = join(SRC, 'errors')
  const uses = sources().map(({ file, text }) => ({
    file,
    text: file.startsWith(`${registry}/`)
      ? text.replace(/export const [A-Z_]+_ERRORS = define\(\{[\s\S]*?\n\}\)/, '')
      : text,
  }))

  it('documents every code in docs/errors.md with its status and exit code', () => {
    for (const [code, def] of Object.entries(ERRORS)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| ${code} |`))
      expect(row, `${code} is missing from docs/errors.md`).toBeDefined()
      expect(row).toContain(`| ${def.status} | ${def.exit} |`)
    }
  })

  it('registers every code docs/errors.md documents', () => {
    expect([...documented].filter((code) => !registered.has(code))).toEqual([])
  })

  it('registers every code the sources name', () => {
    const unknown = uses.flatMap(({ file, text }) =>
      [...text.matchAll(CODE)]
        .map((m) => m[0])
        .filter((c) => !registered.has(c))
        .map((c) => `${c} in ${file}`),
    )
    expect(unknown).toEqual([])
  })

  it('has no registered code that nothing raises', () => {
    const named = new Set(uses.flatMap(({ text }) => [...text.matchAll(CODE)].map((m) => m[0])))
    expect([...registered].filter((code) => !named.has(code))).toEqual([])
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

  it('leaves no placeholder unfilled when every parameter a template names is given', () => {
    for (const [code, def] of Object.entries(ERRORS)) {
      const params = Object.fromEntries([...def.message.matchAll(/\{(\w+)\}/g)].map((m) => [m[1]!, 'x']))
      expect(new TandemError(code as keyof typeof ERRORS, params).message, code).not.toMatch(/\{\w+\}/)
    }
  })
})
