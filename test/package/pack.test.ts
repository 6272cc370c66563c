// The package as users get it (SPEC 10): `npm pack` of this checkout (which runs `prepare`, the build),
// installed into an empty project, then used from there as a user would: the `tandem` command (help,
// init, validate, demo, up with its dashboard), the library from plain Node.js ESM and a strict
// TypeScript consumer against the shipped .d.ts. Nothing from devDependencies may be loaded: the tarball
// is scanned, and the commands run with a module hook that records every import.
// One install per run: better-sqlite3 compiles from source when no prebuilt binary is available (a
// minute or several on a busy machine), so the setup has a generous timeout.
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { describeInstalledProject } from './installed-project.js'
import { BUILTINS, listFiles, manifest, packageOf, usePackedInstall } from './installed-package.js'

const p = usePackedInstall()

describe('the tarball', () => {
  it('holds the build, its declarations, the dashboard and the schema, and no sources, tests or benchmarks', () => {
    const files = p.packed.files.map((f) => f.path)
    for (const f of [
      'package.json',
      'README.md',
      'tandem.schema.json',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/bin.js',
      'dist/dashboard/index.html',
    ]) {
      expect(files).toContain(f)
    }
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([])
    expect(
      files.filter(
        (f) =>
          /^(src|test|bench|scripts|examples|bin|docs)\//.test(f) ||
          /(^|\/)(fixtures?|__tests__)\//.test(f) ||
          /\.(test|bench)\./.test(f),
      ),
    ).toEqual([])
    expect(files.filter((f) => f.endsWith('.map') || f.includes('.build-'))).toEqual([])
    // Every compiled module has its declaration.
    const js = files.filter((f) => f.startsWith('dist/') && !f.startsWith('dist/dashboard/') && f.endsWith('.js'))
    expect(js.filter((f) => !files.includes(f.replace(/\.js$/, '.d.ts')))).toEqual([])
    console.log(`tarball ${p.packed.size} bytes packed, ${p.packed.unpackedSize} unpacked, ${files.length} files`)
  })

  it(
    'imports nothing at run time that is not a dependency or a Node.js built-in',
    { timeout: 5 * 60_000 },
    async () => {
      // What Node.js runs: not the dashboard (a browser bundle) nor the package's own dependencies.
      const files = (await listFiles(p.installed)).filter(
        (f) => f.endsWith('.js') && !f.startsWith('dist/dashboard/') && !f.includes('node_modules'),
      )
      expect(files.length).toBeGreaterThan(50)
      const bad: string[] = []
      const seen = new Set<string>()
      for (const file of files) {
        const text = await readFile(join(p.installed, file), 'utf8')
        // Static imports and re-exports (statements at the start of a line), side-effect imports, dynamic
        // import() and require() with a literal specifier.
        const specifiers = new RegExp(
          [
            String.raw`^\s*(?:import|export)\b[^;'"]*?\bfrom\s*(['"])([^'"\n]+)\1`,
            String.raw`^\s*import\s*(['"])([^'"\n]+)\3`,
            String.raw`\b(?:import|require)\s*\(\s*(['"])([^'"\n]+)\5`,
          ].join('|'),
          'gm',
        )
        for (const m of text.matchAll(specifiers)) {
          const specifier = m[2] ?? m[4] ?? m[6]!
          const name = packageOf(specifier)
          if (name === null) continue
          seen.add(name)
          if (!BUILTINS.has(name) && !(name in manifest.dependencies)) bad.push(`${file}: ${specifier}`)
        }
        if (/\b(tsx|vite)\b/.test(text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')))
          bad.push(`${file} names tsx or vite outside a comment`)
      }
      expect(bad).toEqual([])
      expect(seen.has('fastify')).toBe(true)
      // Neither is installed with the package, so an import of one would fail rather than work by chance.
      for (const dev of ['tsx', 'vite', 'vitest'])
        await expect(stat(join(p.app, 'node_modules', dev))).rejects.toThrow()
    },
  )
})

describeInstalledProject(p)
