// The store's boundary: only the store modules in src/store/ reach the database. Every other source file
// calls their named functions; none imports kysely, reads `store.db`, builds a query or writes raw SQL.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('..', import.meta.url))
const STORE = fileURLToPath(new URL('.', import.meta.url))
const QUERY_BUILDERS = new Set(['selectFrom', 'insertInto', 'updateTable', 'deleteFrom', 'replaceInto', 'mergeInto'])

/** Production sources under src/ outside src/store/ (unit tests may inspect the tables they prove). */
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return path === STORE.replace(/\/$/, '') ? [] : sources(path)
    return /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [path] : []
  })
}

/** Every place in `file` that reaches the database directly, as `line: what`. */
function databaseUses(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const at = (node: ts.Node, what: string) => {
    found.push(`${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${what}`)
  }
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined) {
      const from = (node.moduleSpecifier as ts.StringLiteral).text
      if (from === 'kysely' || from.startsWith('kysely/')) at(node, `imports ${from}`)
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments
      if (arg !== undefined && ts.isStringLiteral(arg) && arg.text === 'kysely') at(node, 'imports kysely')
    }
    if (ts.isPropertyAccessExpression(node)) {
      const name = node.name.text
      if (name === 'db') at(node, `reads ${node.getText(source)}`)
      if (QUERY_BUILDERS.has(name)) at(node, `builds a query with ${name}`)
    }
    if (ts.isTaggedTemplateExpression(node) && node.tag.getText(source) === 'sql') at(node, 'writes sql`...`')
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

describe('the store boundary', () => {
  it('leaves the database to src/store/: no other module imports kysely, reads store.db or builds SQL', () => {
    const offenders = sources().flatMap((file) => databaseUses(file).map((use) => `src/${relative(SRC, file)}:${use}`))
    expect(offenders).toEqual([])
  })

  it('sees a direct query when there is one', () => {
    // Guards the scanner itself: an empty result above must mean a clean tree, not a blind check.
    const uses = databaseUses(fileURLToPath(new URL('./system-state.ts', import.meta.url)))
    expect(uses.some((u) => u.includes('selectFrom'))).toBe(true)
    expect(uses.some((u) => u.includes('reads store.db'))).toBe(true)
  })
})
