// Serves the Vite-built dashboard at / of the admin listener. src/dashboard/dist is not committed: when
// it is missing or older than its sources it is built here, once, with Vite's build API. The path goes
// through the package root so it holds both from src/admin/ (tsx) and from the compiled dist/admin/.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

export const DASHBOARD_ROOT = fileURLToPath(new URL('../../src/dashboard/', import.meta.url))
export const DASHBOARD_DIST = join(DASHBOARD_ROOT, 'dist')

let building: Promise<string> | undefined

/** Newest modification time among the dashboard sources (not the build output). */
function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name.startsWith('.build-')) continue
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

export function dashboardIsFresh(): boolean {
  const index = join(DASHBOARD_DIST, 'index.html')
  return existsSync(index) && statSync(index).mtimeMs >= newestSource(DASHBOARD_ROOT)
}

/**
 * Build into a private directory and rename it into place, so concurrent instances (or test workers)
 * never serve a half-written build; the loser of a race discards its copy.
 */
export function ensureDashboardBuilt(): Promise<string> {
  if (dashboardIsFresh()) return Promise.resolve(DASHBOARD_DIST)
  building ??= (async () => {
    // Vite is only needed when the build is missing; importing it lazily keeps startup light.
    const { build } = await import('vite')
    const out = join(DASHBOARD_ROOT, `.build-${process.pid}-${Date.now().toString(36)}`)
    await build({
      root: DASHBOARD_ROOT,
      base: './',
      configFile: false,
      logLevel: 'error',
      build: { outDir: out, emptyOutDir: true, sourcemap: false },
    })
    const old = `${DASHBOARD_DIST}.old-${process.pid}-${Date.now().toString(36)}`
    try {
      if (existsSync(DASHBOARD_DIST)) renameSync(DASHBOARD_DIST, old)
      renameSync(out, DASHBOARD_DIST)
    } catch {
      // Another process put a build in place first; use theirs.
      rmSync(out, { recursive: true, force: true })
    }
    rmSync(old, { recursive: true, force: true })
    return DASHBOARD_DIST
  })().finally(() => {
    building = undefined
  })
  return building
}

/** Fastify plugin: the dashboard's files at /, index.html for / itself. */
export async function registerDashboard(app: FastifyInstance): Promise<void> {
  const root = await ensureDashboardBuilt()
  await app.register(fastifyStatic, { root, prefix: '/', index: ['index.html'], wildcard: true })
}
