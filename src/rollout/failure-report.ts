// The failure report a rollback leaves behind (SPEC 5): why, where the rollout was, the evidence, the
// recent decisions, the metrics of both arms and the differences found, in one JSON file.
import { access, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Store } from '../store/open.js'
import { listDecisions, type SystemState } from '../store/system-state.js'

export interface FailureReport {
  readonly system: string
  readonly timestamp: string
  readonly reason: string
  readonly stage: string
  readonly weight: number
  readonly evidence: unknown
  readonly recentDecisions: unknown[]
  readonly metrics: unknown
  readonly diffs: unknown[]
}

/** `20240131_142501`, in UTC, for the file name. */
export function reportStamp(at: number): string {
  const iso = new Date(at).toISOString()
  return `${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}`
}

export async function writeFailureReport(
  dir: string,
  store: Store,
  input: { system: string; at: number; reason: string; before: SystemState; evidence: unknown; current?: unknown },
): Promise<string> {
  const report: FailureReport = {
    system: input.system,
    timestamp: new Date(input.at).toISOString(),
    reason: input.reason,
    stage: input.before.stage,
    weight: input.before.weight,
    evidence: input.evidence,
    recentDecisions: await listDecisions(store, input.system, 20),
    // The window that triggered the rollback, read live, and the persisted windows before it.
    metrics: { current: input.current ?? null, history: await recentMetrics(store, input.system) },
    diffs: await diffs(store, input.system),
  }
  await mkdir(dir, { recursive: true })
  let file = join(dir, `${input.system}_${reportStamp(input.at)}.json`)
  // Two rollbacks in the same second (rollback, retry, rollback) must not overwrite each other.
  for (let n = 2; await exists(file) && n < 100; n++) file = join(dir, `${input.system}_${reportStamp(input.at)}-${n}.json`)
  // Written aside and renamed into place: `tandem report` and the dashboard never read half a report.
  const partial = `${file}.${process.pid}.partial`
  await writeFile(partial, `${JSON.stringify(report, null, 2)}\n`)
  await rename(partial, file)
  return file
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  )
}

async function recentMetrics(store: Store, system: string): Promise<unknown> {
  const rows = await store.db.selectFrom('metric_windows').selectAll().where('system', '=', system).orderBy('id', 'desc').limit(40).execute()
  return rows.reverse().map((r) => ({
    route: r.route,
    arm: r.arm,
    windowStart: Number(r.window_start),
    windowEnd: Number(r.window_end),
    requests: r.requests,
    errors: r.errors,
    successes: r.successes,
    p50Ms: r.p50_ms,
    p95Ms: r.p95_ms,
    p99Ms: r.p99_ms,
    meanMs: r.mean_ms,
  }))
}

/** Per route: counts and the fields that differ, with up to two redacted samples each. */
async function diffs(store: Store, system: string): Promise<unknown[]> {
  const routes = await store.db.selectFrom('compare_routes').selectAll().where('system', '=', system).execute()
  const fields = await store.db.selectFrom('compare_fields').selectAll().where('system', '=', system).orderBy('raw', 'desc').limit(100).execute()
  const out = []
  for (const r of routes) {
    const own = fields.filter((f) => f.route === r.route)
    const withSamples = []
    for (const f of own.slice(0, 20)) {
      const samples = await store.db
        .selectFrom('compare_samples')
        .select(['sample'])
        .where('system', '=', system)
        .where('route', '=', r.route)
        .where('path', '=', f.path)
        .orderBy('id', 'desc')
        .limit(2)
        .execute()
      withSamples.push({ path: f.path, kind: f.kind, raw: f.raw, noise: f.noise, total: f.total, samples: samples.map((s) => JSON.parse(s.sample)) })
    }
    out.push({ route: r.route, compared: r.compared, matches: r.matches, mismatches: r.mismatches, skipped: r.skipped, candidateErrors: r.candidate_errors, fields: withSamples })
  }
  return out
}

/**
 * Add the verification of a rollback to its failure report (the newest report of `system` written in
 * the second of the rollback, or the one after). Returns the file, or null when none is found.
 */
export async function addVerification(dir: string, system: string, rollbackAt: number, verification: unknown): Promise<string | null> {
  const stamps = [reportStamp(rollbackAt), reportStamp(rollbackAt + 1000)]
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json') && stamps.some((s) => f.startsWith(`${system}_${s}`))).sort()
  const name = names.at(-1)
  if (name === undefined) return null
  const file = join(dir, name)
  const report = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
  const partial = `${file}.${process.pid}.partial`
  await writeFile(partial, `${JSON.stringify({ ...report, verification }, null, 2)}\n`)
  await rename(partial, file)
  return file
}
