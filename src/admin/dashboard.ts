// Serves the dashboard at / of the admin listener from its prebuilt copy in dist/dashboard/ (built by
// `npm run build`, shipped in the package). Only in a git checkout, where its sources are present, is a
// missing or stale build rebuilt on demand (scripts/dashboard-build.mjs, with Vite); an installed package
// never builds, never loads Vite and never writes into its own directory. Paths go through the package
// root, which is the same from src/admin/ (tsx, tests) and from the compiled dist/admin/.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** The dashboard's sources: present in a git checkout, not in the installed package. */
export const DASHBOARD_SOURCES = join(PACKAGE_ROOT, 'src', 'dashboard')
/** Shared modules outside the dashboard folder that its bundle includes (the domain vocabulary). */
const DASHBOARD_SHARED = [join(PACKAGE_ROOT, 'src', 'domain')]
/** What is served. */
export const DASHBOARD_DIST = join(PACKAGE_ROOT, 'dist', 'dashboard')

let building: Promise<string> | undefined

/** Newest modification time among the dashboard sources. */
function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

/** Whether this is a checkout that holds the dashboard's sources (so it may be rebuilt). */
export function hasDashboardSources(): boolean {
  return existsSync(join(DASHBOARD_SOURCES, 'index.html'))
}

export function dashboardIsFresh(): boolean {
  const index = join(DASHBOARD_DIST, 'index.html')
  if (!existsSync(index)) return false
  if (!hasDashboardSources()) return true
  const built = statSync(index).mtimeMs
  return [DASHBOARD_SOURCES, ...DASHBOARD_SHARED].every((dir) => built >= newestSource(dir))
}

/** The directory to serve: the prebuilt one, rebuilt first in a checkout when missing or stale. */
export function ensureDashboardBuilt(): Promise<string> {
  if (dashboardIsFresh() || !hasDashboardSources()) return Promise.resolve(DASHBOARD_DIST)
  building ??= import('../../scripts/dashboard-build.mjs')
    .then(({ buildDashboard }) => buildDashboard())
    .finally(() => {
      building = undefined
    })
  return building
}

/** Fastify plugin: the dashboard's files at /, index.html for / itself. */
export async function registerDashboard(app: FastifyInstance): Promise<void> {
  const root = await ensureDashboardBuilt()
  await app.register(fastifyStatic, { root, prefix: '/', index: ['index.html'], wildcard: true })
}
