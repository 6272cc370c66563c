// Whether dist/ (`npm run build`, also run at install) is at least as new as the sources it was built
// from. bin/tandem.js runs dist/ when it is, and src/ through tsx otherwise.
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

export function distIsFresh() {
  return builtAt() >= newestSource(src)
}
