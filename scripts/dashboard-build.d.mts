/** src/dashboard/ in a git checkout. */
export const DASHBOARD_SOURCES: string
/** dist/dashboard/: what the admin listener serves and the package ships. */
export const DASHBOARD_BUILD: string
/** Build the dashboard with Vite into `target` (default dist/dashboard/), atomically; resolves to it. */
export function buildDashboard(target?: string): Promise<string>
