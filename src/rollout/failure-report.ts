// The failure report a rollback leaves behind (SPEC 5): why, where the rollout was, the evidence, the
// recent decisions, the metrics of both arms and the differences found, in one JSON file.
import { access, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readDiffReport, type RouteReport } from '../compare/diff-report.js'
import type { SystemConfig } from '../config/schema.js'
import { readMetricWindows } from '../store/metric-windows.js'
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
  /** Per route the comparison counts, per field raw, noise, total, whether it is real, and samples. */
  readonly diffs: RouteReport[]
}

/** `20240131_142501`, in UTC, for the file name. */
export function reportStamp(at: number): string {
  const iso = new Date(at).toISOString()
  return `${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}`
}

export async function writeFailureReport(
  dir: string,
  store: Store,
  input: {
    system: SystemConfig
    at: number
    reason: string
    before: SystemState
    evidence: unknown
    current?: unknown
  },
): Promise<string> {
  const system = input.system.name
  const [recentDecisions, history, diffs] = await Promise.all([
    listDecisions(store, system, 20),
    readMetricWindows(store, system, { limit: 40, newest: true }),
    readDiffReport(store, input.system),
  ])
  const report: FailureReport = {
    system,
    timestamp: new Date(input.at).toISOString(),
    reason: input.reason,
    stage: input.before.stage,
    weight: input.before.weight,
    evidence: input.evidence,
    recentDecisions,
    // The window that triggered the rollback, read live, and the persisted windows before it.
    metrics: { current: input.current ?? null, history },
    diffs: diffs.routes,
  }
  await mkdir(dir, { recursive: true })
  let file = join(dir, `${system}_${reportStamp(input.at)}.json`)
  // Two rollbacks in the same second (rollback, retry, rollback) must not overwrite each other.
  for (let n = 2; (await exists(file)) && n < 100; n++) file = join(dir, `${system}_${reportStamp(input.at)}-${n}.json`)
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

/**
 * Add the verification of a rollback to its failure report (the newest report of `system` written in
 * the second of the rollback, or the one after). Returns the file, or null when none is found.
 */
export async function addVerification(
  dir: string,
  system: string,
  rollbackAt: number,
  verification: unknown,
): Promise<string | null> {
  const stamps = [reportStamp(rollbackAt), reportStamp(rollbackAt + 1000)]
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.json') && stamps.some((s) => f.startsWith(`${system}_${s}`)))
    .sort()
  const name = names.at(-1)
  if (name === undefined) return null
  const file = join(dir, name)
  const report = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
  const partial = `${file}.${process.pid}.partial`
  await writeFile(partial, `${JSON.stringify({ ...report, verification }, null, 2)}\n`)
  await rename(partial, file)
  return file
}
