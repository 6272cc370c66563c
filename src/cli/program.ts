// `tandem check <system>` (the pre-migration checklist) and `tandem report` (program KPIs and
// progress). Both read the store named in the config directly, so they work without a running instance.
import { writeFile } from 'node:fs/promises'
import { Option, type Command } from 'commander'
import { TandemError } from '../errors.js'
import { runChecklist, type CheckResult } from '../program/checklist.js'
import { waveReasons } from '../program/gates.js'
import { buildReport } from '../program/report-data.js'
import { missedTargets, type TargetResult } from '../program/targets.js'
import { renderHtml } from '../program/report-html.js'
import { renderMarkdown } from '../program/report-md.js'
import { stageMap, waveOf } from '../program/waves.js'
import { openStore } from '../store/open.js'
import { listStates } from '../store/system-state.js'
import { configFrom, withConfigOption, withJsonOption } from './common.js'
import { printJson } from './output.js'

export function registerProgramCommands(program: Command): void {
  withJsonOption(withConfigOption(program.command('check')))
    .argument('<system>', 'the system whose checklist to run')
    .description(
      'run the pre-migration checklist of a system (--post: the post-migration one); exit 1 when a configured check' +
        ' fails',
    )
    .option('--post', 'run checklist.post, the list that must pass before `tandem finalize`')
    .action(async (system: string, opts: { config: string; json?: boolean; post?: boolean }) => {
      const config = await configFrom(opts)
      if (!config.systems.some((s) => s.name === system))
        throw new TandemError('TANDEM_ERR_SYSTEM_NOT_FOUND', { system })
      const store = await openStore(config.store)
      try {
        const stages = stageMap(await listStates(store))
        const post = opts.post === true
        const checks = await runChecklist(config, store, system, { stages, post })
        const failed = checks.filter((c) => !c.ok)
        const wave = waveOf(config, system)
        const waiting = waveReasons(config, stages, system)
        const result = {
          system,
          list: post ? 'post' : 'pre',
          ok: failed.length === 0,
          wave: wave?.name ?? null,
          waveOpen: waiting.length === 0,
          waveReasons: waiting,
          checks,
        }
        if (opts.json) printJson(result)
        else
          process.stdout.write(
            renderChecks(system, post ? null : (wave?.name ?? null), post ? [] : waiting, checks, post),
          )
        if (failed.length > 0) process.exitCode = 1
      } finally {
        await store.close()
      }
    })

  withConfigOption(program.command('report'))
    .description('program report: KPIs, wave progress, every system, rollbacks with their failure reports')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'html', 'json']).default('md'))
    .option('--json', 'same as --format json')
    .option('-o, --output <file>', 'write the report to FILE instead of stdout')
    .option(
      '--check',
      'exit 1 (TANDEM_ERR_TARGETS_MISSED) when a KPI misses its target in program.targets, for CI pipelines',
    )
    .action(
      async (opts: {
        config: string
        format: 'md' | 'html' | 'json'
        json?: boolean
        output?: string
        check?: boolean
      }) => {
        const config = await configFrom(opts)
        const store = await openStore(config.store)
        let text: string
        let missed: TargetResult[]
        try {
          const report = await buildReport(config, store)
          missed = missedTargets(report.targets)
          const format = opts.json ? 'json' : opts.format
          text =
            format === 'json'
              ? `${JSON.stringify(report, null, 2)}\n`
              : format === 'html'
                ? renderHtml(report)
                : renderMarkdown(report)
        } finally {
          await store.close()
        }
        if (opts.output === undefined) process.stdout.write(text)
        else {
          await writeFile(opts.output, text).catch((error: Error) => {
            throw new TandemError(
              'TANDEM_ERR_REPORT_WRITE',
              { file: opts.output, detail: error.message },
              { cause: error },
            )
          })
          process.stderr.write(`wrote ${opts.output}\n`)
        }
        if (opts.check === true && missed.length > 0) {
          const list = missed
            .map((t) => `${t.kpi} ${Number.isInteger(t.value) ? t.value : t.value.toPrecision(3)} not ${t.target}`)
            .join(', ')
          throw new TandemError(
            'TANDEM_ERR_TARGETS_MISSED',
            { count: missed.length, missed: list },
            { details: { missed } },
          )
        }
      },
    )
}

const MARK = { pass: 'PASS', fail: 'FAIL', 'not-configured': '  --' } as const

function renderChecks(
  system: string,
  wave: string | null,
  waiting: readonly string[],
  checks: readonly CheckResult[],
  post: boolean,
): string {
  const where = post
    ? ' (must pass before `tandem finalize`)'
    : wave === null
      ? ' (no wave)'
      : ` (wave ${wave}: ${waiting.length === 0 ? 'open' : 'waiting'})`
  const lines = [`${post ? 'post-migration ' : ''}checklist of ${system}${where}`]
  for (const reason of waiting) lines.push(`  note: ${reason}`)
  const width = Math.max(...checks.map((c) => c.check.length))
  for (const c of checks) {
    const summary = c.status === 'not-configured' ? 'not configured' : c.status === 'pass' ? lastLine(c.output) : ''
    lines.push(`  ${MARK[c.status]}  ${c.check.padEnd(width)}  ${summary}`.trimEnd())
    // A failing check shows its whole (capped) output: that is what the operator needs to fix it.
    if (c.status === 'fail') for (const l of c.output.split('\n')) lines.push(`        ${l}`)
  }
  const failed = checks.filter((c) => !c.ok).map((c) => c.check)
  const missing = checks.filter((c) => c.status === 'not-configured').map((c) => c.check)
  lines.push(
    failed.length === 0
      ? `all configured checks pass${missing.length > 0 ? ` (not configured: ${missing.join(', ')})` : ''}`
      : `${failed.length} check(s) failed: ${failed.join(', ')}`,
  )
  return `${lines.join('\n')}\n`
}

function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '')
  return lines.length <= 1 ? (lines[0] ?? '') : `${lines[0]} … ${lines.at(-1)}`
}
