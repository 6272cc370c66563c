#!/usr/bin/env node
// The `tandem` command. Runs the compiled dist/ (`npm run build`, also run at install) when it is at
// least as new as the sources it was built from; otherwise runs src/ through tsx, so a checkout with
// edited sources, or without a build, still works.
import { readdirSync, readFileSync, statSync } from 'node:fs'

const src = new URL('../src/', import.meta.url)

/** Newest mtime of the sources tsconfig.build.json compiles (not tests, not the Vite dashboard). */
function newestSource(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = new URL(entry.isDirectory() ? `${entry.name}/` : entry.name, dir)
    if (entry.isDirectory()) {
      if (path.href !== `${src.href}dashboard/`) newest = Math.max(newest, newestSource(path))
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs)
    }
  }
  return newest
}

function builtAt() {
  try {
    return Number(readFileSync(new URL('../dist/.build-stamp', import.meta.url), 'utf8'))
  } catch {
    return 0
  }
}

let main
if (builtAt() >= newestSource(src)) {
  ;({ main } = await import('../dist/cli/main.js'))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  ;({ main } = await import('../src/cli/main.ts'))
}
await main(process.argv)
