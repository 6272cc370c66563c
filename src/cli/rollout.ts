// `tandem status` and the operator verbs (start, promote, advance, pause, resume, rollback, retry,
// finalize): thin clients of a running `tandem up` through the admin API.
import type { Command } from 'commander'
import type { SystemSummary } from '../admin/system-view.js'
import type { RuleEvidence } from '../analysis/verdict.js'
import type { Decision } from '../store/system-state.js'
import type { StoredVerdict } from '../store/verdicts.js'
import { AdminClient, withAdminOptions, type AdminOptions } from './admin-client.js'
import { printJson } from './output.js'
import { describeHalt } from '../program/halt.js'
import type { ProgramState } from '../store/program-state.js'
import { withJsonOption } from './common.js'

// The admin API's own response types (the CLI is its client, over HTTP).
type Summary = SystemSummary

interface Detail extends SystemSummary {
  steps: Array<{ kind: string; weight?: number; durationMs?: number; pauseMs?: number }>
  verdicts: Array<Omit<StoredVerdict, 'evidence'> & { evidence: { reason?: string; rules?: RuleEvidence[] } }>
  decisions: Decision[]
}

interface ActionResult {
  system: string
  action: string
  state: { stage: string; weight: number; stepIndex: number; paused: boolean }
  decision: { seq: number; reason: string }
}

type Opts = AdminOptions & { json?: boolean; force?: boolean; reason?: string }

const VERBS = [
  ['promote', 'send all traffic to the candidate now (legacy kept warm)'],
  ['advance', 'leave the current step now, skipping its pause and verdict'],
  ['pause', 'stop advancing (rollback triggers keep being checked)'],
  ['resume', 'resume advancing after a pause'],
  ['rollback', 'send all traffic back to legacy at once and write a failure report'],
  ['retry', 'start a rolled-back system again from its first step'],
  ['finalize', 'mark a promoted system completed (legacy retired) once checklist.post passes'],
] as const

export function registerRolloutCommands(program: Command): void {
  withJsonOption(withAdminOptions(program.command('status [system]')))
    .description('stage, weight, step, the last verdicts with their evidence, and why the controller holds')
    .action(async (system: string | undefined, opts: Opts) => {
      const client = await AdminClient.from(opts)
      if (system === undefined) {
        const { systems, program } = await client.get<{ systems: Summary[]; program: ProgramState }>('/api/v1/systems')
        if (opts.json) return printJson({ systems, program })
        return void process.stdout.write(haltBanner(program) + renderList(systems))
      }
      const detail = await client.get<Detail>(`/api/v1/systems/${encodeURIComponent(system)}`)
      if (opts.json) return printJson(detail)
      const program = await client.get<ProgramState>('/api/v1/program')
      process.stdout.write(haltBanner(program) + renderDetail(detail))
    })

  withJsonOption(withAdminOptions(program.command('start <system>')))
    .description('begin the rollout (pending -> first step) once the wave is open and the checklist passes')
    .option('--force', 'skip the wave and checklist gate (recorded in the decision log)')
    .option('--reason <text>', 'why, for the audit trail')
    .action((system: string, opts: Opts) => act(system, 'start', opts))

  for (const [verb, description] of VERBS) {
    const cmd = withJsonOption(withAdminOptions(program.command(`${verb} <system>`)))
      .description(description)
      .option('--reason <text>', 'why, for the audit trail')
    if (verb === 'finalize')
      cmd.option('--force', 'finalize although a post-migration check fails (recorded in the decision log)')
    cmd.action((system: string, opts: Opts) => act(system, verb, opts))
  }
}

async function act(system: string, action: string, opts: Opts): Promise<void> {
  const client = await AdminClient.from(opts)
  const body = { ...(opts.force ? { force: true } : {}), ...(opts.reason !== undefined ? { reason: opts.reason } : {}) }
  const result = await client.post<ActionResult>(
    `/api/v1/systems/${encodeURIComponent(system)}/actions/${action}`,
    body,
  )
  if (opts.json) return printJson(result)
  const s = result.state
  process.stdout.write(
    `${system}: ${action} -> ${s.stage}, weight ${s.weight}%${s.paused ? ', paused' : ''} (decision` +
      ` #${result.decision.seq}: ${result.decision.reason})\n`,
  )
}

/** The first line of `tandem status` while the program is halted. */
function haltBanner(p: ProgramState): string {
  return p.halted
    ? `PROGRAM HALTED: ${describeHalt(p)}. Nothing starts or advances; rollbacks still happen. Run \`tandem program` +
        ` resume\` once fixed.\n\n`
    : ''
}

function stepLabel(s: Summary, steps?: Detail['steps']): string {
  if (s.stepIndex < 0) return '-'
  const total = steps?.length
  const step = steps?.[s.stepIndex]
  const what =
    step === undefined
      ? ''
      : step.kind === 'shadow'
        ? ' shadow'
        : step.kind === 'weight'
          ? ` weight ${step.weight}%`
          : ' switch'
  return `${s.stepIndex + 1}${total === undefined ? '' : `/${total}`}${what}`
}

function renderList(systems: Summary[]): string {
  // Data and event moves add their verified-through time, flags the adapters following them (SPEC 12, 13);
  // each column appears only when some system needs it.
  const moves = systems.some((s) => s.verifiedThrough !== undefined)
  const verified = (s: Summary): string[] =>
    moves
      ? [
          s.verifiedThrough === undefined
            ? '-'
            : s.verifiedThrough === null
              ? 'not yet'
              : new Date(s.verifiedThrough).toISOString(),
        ]
      : []
  const flags = systems.some((s) => s.kind === 'code' || (s.flagClients?.count ?? 0) > 0)
  const clients = (s: Summary) => (flags ? [String(s.flagClients?.count ?? 0)] : [])
  const rows = [
    [
      'SYSTEM',
      'STAGE',
      'WEIGHT',
      'STEP',
      ...(moves ? ['VERIFIED THROUGH'] : []),
      ...(flags ? ['CLIENTS'] : []),
      'HOLD',
    ],
    ...systems.map((s) => {
      const stage = s.stage + (s.paused ? ' (paused)' : '')
      return [s.name, stage, `${s.weight}%`, stepLabel(s), ...verified(s), ...clients(s), s.holdReason ?? '']
    }),
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return `${rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`
}

const num = (n: number | null | undefined): string =>
  n === null || n === undefined ? 'n/a' : Number.isInteger(n) ? String(n) : n.toPrecision(3)

/** A move's watermark as text: ISO time and its age, or that no window has passed yet. */
function verifiedText(at: number | null): string {
  if (at === null) return 'not yet (no window verified)'
  return `${new Date(at).toISOString()} (${Math.round((Date.now() - at) / 1000)}s ago)`
}

/** Adapters following the system as a flag (SPEC 12), shown when there are any or the system is code. */
function flagClientLines(d: Detail): string[] {
  const f = d.flagClients
  if (f === undefined || (f.count === 0 && d.kind !== 'code')) return []
  const shown = f.clients.slice(0, 10).map((c) => `${c.id} synced ${new Date(c.lastSyncAt).toISOString()}`)
  const more = f.count > shown.length ? ', ...' : ''
  return [`flag clients: ${f.count}${shown.length === 0 ? '' : ` (${shown.join(', ')}${more})`}`]
}

function renderDetail(d: Detail): string {
  const lines = [
    `${d.name}: ${d.stage}${d.paused ? ' (paused)' : ''}, weight ${d.weight}%, step ${stepLabel(d, d.steps)},` +
      ` serving arm ${d.activeArm}`,
    `holding: ${d.holdReason ?? 'no'}`,
    ...(d.verifiedThrough === undefined ? [] : [`verified through: ${verifiedText(d.verifiedThrough)}`]),
    ...flagClientLines(d),
    '',
    'last verdicts:',
  ]
  for (const v of d.verdicts.slice(0, 5)) {
    lines.push(
      `  ${new Date(v.at).toISOString()}  ${v.verdict.padEnd(12)} ${v.stage}` +
        ` ${v.weight}%${v.score === null ? '' : ` score ${num(v.score)}`}  ${v.evidence.reason ?? ''}`,
    )
    for (const r of v.evidence.rules ?? []) {
      if (r.result === 'pass' && v.verdict === 'pass') continue
      const base = r.baseline === null ? '' : ` legacy ${num(r.baseline)} limit ${num(r.limit)}`
      lines.push(
        `      ${r.rule.padEnd(26)} ${num(r.value).padEnd(8)} ${r.threshold.padEnd(8)}` +
          ` ${r.result}${r.dryRun ? ' (dry run)' : ''}${base}  n=${r.samples.legacy}/${r.samples.candidate}`,
      )
    }
  }
  if (d.verdicts.length === 0) lines.push('  (none yet)')
  lines.push('', 'decisions:')
  for (const x of d.decisions.slice(-10)) {
    lines.push(
      `  #${x.seq} ${new Date(x.at).toISOString()} ${x.action} by ${x.actor}: ${x.fromStage} -> ${x.toStage}` +
        ` ${x.weight}%  ${x.reason}`,
    )
  }
  return `${lines.join('\n')}\n`
}
