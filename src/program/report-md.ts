// `tandem report --format md`: the program report as Markdown, for a pull request or a wiki page.
import { STAGES } from '../domain/stages.js'
import type { ProgramReport } from './report-data.js'
import type { RollbackVerification } from './report-playbook.js'
import { change, hours, kpiRows, pct, programLine, span, targetOf, when } from './report-format.js'

/** Pipes and newlines would break a table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ')
}

/** How the rollback was verified, with the playbook's reason. */
function verificationText(v: RollbackVerification | null): string {
  if (v === null) return 'pending or not recorded'
  const outcome = v.result === 'rollback-failed' ? '**rollback-failed** (emergency)' : 'rollback-verified'
  return `${outcome}: ${cell(v.reason)}`
}

export function renderMarkdown(r: ProgramReport): string {
  const out: string[] = [
    '# Migration program report',
    '',
    `Generated ${when(r.generatedAt)} from store \`${r.store}\`.`,
    '',
  ]
  out.push(r.program.halted ? `> **${cell(programLine(r.program))}**` : programLine(r.program), '')
  const missed = r.targets.filter((t) => !t.met).length
  out.push(
    '## KPIs',
    '',
    `${r.targets.length - missed} of ${r.targets.length} targets met.`,
    '',
    '| KPI | value | target | met |',
    '| --- | --- | --- | --- |',
  )
  for (const k of kpiRows(r.kpis)) {
    const t = targetOf(r.targets, k.key)
    out.push(`| ${k.label} (\`${k.key}\`) | ${k.value} | ${t.target} | ${t.status} |`)
  }

  out.push('', '## Waves', '')
  if (r.waves.length === 0) out.push('No waves are declared.')
  else {
    out.push(
      `| wave | rollback | max concurrent | systems | ${STAGES.join(' | ')} | status |`,
      `| --- | --- | --- | --- | ${STAGES.map(() => '---').join(' | ')} | --- |`,
    )
    for (const w of r.waves) {
      out.push(
        `| ${w.name} | ${w.rollback} | ${w.maxConcurrent} | ${w.systems.length} |` +
          ` ${STAGES.map((s) => w.counts[s]).join(' | ')} | ${cell(w.reason)} |`,
      )
    }
  }
  if (r.wavePlans.length > 0) {
    out.push(
      '',
      '### Planned against actual',
      '',
      '| wave | planned | actual | remaining | planned end | projected end | on plan |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    )
    for (const p of r.wavePlans) {
      out.push(
        `| ${p.wave} | ${span(p.plannedMs)} | ${span(p.actualMs)} | ${p.remaining} | ${when(p.plannedEnd)} |` +
          ` ${when(p.projectedEnd)} | ${p.late === null ? '—' : p.late ? 'late' : 'yes'} |`,
      )
    }
  }
  if (r.unassigned.length > 0)
    out.push('', `Not in any wave (gated by their checklist only): ${r.unassigned.join(', ')}.`)

  out.push('', '## Systems', '')
  if (r.systems.length === 0) out.push('No systems are declared.')
  else {
    out.push(
      '| system | category | priority | wave | stage | weight | match rate | latency change | throughput change |' +
        ' time in migration | verdicts (pass/fail/inconcl.) | rollbacks |',
    )
    out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for (const s of r.systems) {
      const stage = s.paused ? `${s.stage} (paused)` : s.stage
      out.push(
        `| ${s.name} | ${cell(s.category)} | ${s.priority} | ${s.wave ?? '—'} | ${stage} | ${s.weight} % |` +
          ` ${pct(s.matchRate)} | ${change(s.latencyChange)} | ${change(s.throughputChange)} |` +
          ` ${hours(s.migrationHours)} | ${s.verdicts.pass}/${s.verdicts.fail}/${s.verdicts.inconclusive} |` +
          ` ${s.rollbacks} |`,
      )
    }
  }

  const moves = r.systems.filter((s) => s.verifiedThrough !== undefined)
  if (moves.length > 0) {
    out.push('', 'Data and event moves, verified through (both sides proven equal up to):', '')
    for (const s of moves)
      out.push(
        `- ${s.name}:` +
          ` ${s.verifiedThrough == null ? 'no window verified yet' : new Date(s.verifiedThrough).toISOString()}`,
      )
  }

  out.push('', '## Rollbacks', '')
  if (r.rollbacks.length === 0) out.push('No rollbacks.')
  for (const b of r.rollbacks) {
    out.push(
      `### ${b.system} at ${when(b.at)}`,
      '',
      `- Reason: ${b.reason || '—'}`,
      `- From stage: ${b.fromStage ?? '—'} at weight ${b.weight ?? '—'} %`,
      `- By: ${b.actor ?? '—'}`,
    )
    out.push(`- Verification: ${verificationText(b.verification)}`)
    if (b.failureReport === null) out.push('- Failure report: none found')
    else {
      const { file, content } = b.failureReport
      out.push(
        `- Failure report: \`${file}\``,
        '',
        '```json',
        JSON.stringify(
          {
            evidence: content.evidence,
            recentDecisions: content.recentDecisions,
            metrics: content.metrics,
            diffs: content.diffs,
          },
          null,
          2,
        ).slice(0, 6000),
        '```',
      )
    }
    out.push('')
  }
  return `${out.join('\n').trimEnd()}\n`
}
