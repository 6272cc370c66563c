// `tandem diffs <system>`: the stored comparison results of a system, read straight from the store
// (SQLite WAL lets this run beside `tandem up`). Exit 1 when a real difference is found.
import type { Command } from 'commander'
import { readDiffReport, type DiffReport } from '../compare/diff-report.js'
import { TandemError } from '../errors.js'
import { openStore } from '../store/open.js'
import { configFrom, withConfigOption, withJsonOption } from './common.js'
import { printJson } from './output.js'

export function registerDiffsCommands(program: Command): void {
  withJsonOption(withConfigOption(program.command('diffs')))
    .argument('<system>', 'the system whose comparison results to show')
    .description(
      'show response differences per route and field (raw, noise, real) with samples; ' +
        'exit 0 when no real difference, 1 when there is at least one, 2 on error',
    )
    .action(async (systemName: string, opts: { config: string; json?: boolean }) => {
      const config = await configFrom(opts)
      const system = config.systems.find((s) => s.name === systemName)
      if (system === undefined) throw new TandemError('TANDEM_ERR_SYSTEM_NOT_FOUND', { system: systemName })
      const store = await openStore(config.store)
      let report: DiffReport
      try {
        report = await readDiffReport(store, system)
      } finally {
        await store.close()
      }
      if (opts.json) printJson(report)
      else process.stdout.write(renderReport(report))
      if (report.routes.some((r) => r.fields.some((f) => f.real))) process.exitCode = 1
    })
}

export function renderReport(report: DiffReport): string {
  if (report.routes.length === 0) return `${report.system}: no comparisons stored yet\n`
  const lines: string[] = []
  for (const r of report.routes) {
    const rate = r.matchRate === null ? '-' : `${(r.matchRate * 100).toFixed(1)}%`
    lines.push(
      `${r.route}  compared ${r.compared}  match ${r.matches}  mismatch ${r.mismatches}  noise-only ${r.noiseOnly}  ` +
        `skipped ${r.skipped}${skipDetail(r.skippedReasons)}  candidate-error ${r.candidateErrors}  match rate ${rate}`,
    )
    if (r.fields.length === 0) {
      lines.push('  (no differing fields)', '')
      continue
    }
    const rows = r.fields.map((f) => [
      f.real ? 'REAL' : 'noise',
      f.path === '' ? '(body)' : f.path,
      f.kind,
      String(f.raw),
      String(f.noise),
      String(f.total),
      String(f.samples.length),
    ])
    const head = ['', 'field', 'kind', 'raw', 'noise', 'total', 'samples']
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
    for (const row of [head, ...rows])
      lines.push(`  ${row.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')}`)
    lines.push('')
  }
  const real = report.routes.reduce((n, r) => n + r.fields.filter((f) => f.real).length, 0)
  lines.push(real === 0 ? 'no real differences' : `${real} real difference(s); samples with --json`)
  return `${lines.join('\n')}\n`
}

function skipDetail(reasons: Record<string, number>): string {
  const parts = Object.entries(reasons).map(([reason, n]) => `${reason} ${n}`)
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`
}
