// Builds the dashboard (src/dashboard/, a Vite app) into dist/dashboard/, which is what the admin
// listener serves and what the package ships. Used by `npm run build` and, in a git checkout whose build
// is missing or older than the dashboard sources, by src/admin/dashboard.ts on demand. Vite is a
// devDependency: nothing outside a checkout imports this file.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

export const DASHBOARD_SOURCES = fileURLToPath(new URL('../src/dashboard/', import.meta.url))
export const DASHBOARD_BUILD = fileURLToPath(new URL('../dist/dashboard', import.meta.url))

/**
 * Build into a private directory beside the target and rename it into place, so concurrent builds (test
 * workers, several instances) never serve a half-written one; the loser of a race keeps the winner's.
 */
export async function buildDashboard(target = DASHBOARD_BUILD) {
  const { build } = await import('vite')
  const tag = `${process.pid}-${Date.now().toString(36)}`
  const out = `${target}.build-${tag}`
  mkdirSync(dirname(target), { recursive: true })
  await build({
    root: DASHBOARD_SOURCES,
    base: './',
    configFile: false,
    logLevel: 'error',
    build: { outDir: out, emptyOutDir: true, sourcemap: false },
  })
  const old = `${target}.old-${tag}`
  try {
    if (existsSync(target)) renameSync(target, old)
    renameSync(out, target)
  } catch {
    // Another process put a build in place first; use theirs.
    rmSync(out, { recursive: true, force: true })
  }
  rmSync(old, { recursive: true, force: true })
  return target
}
