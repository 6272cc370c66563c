// One system: stage, weight and steps, operator actions (by role), live latency and error-rate charts
// legacy vs candidate, the stage timeline from decisions, and verdicts with their evidence.
import { api, ApiError, type MetricsPoint, type SystemDetail } from '../api.js'
import { lineChart } from '../chart.js'
import { h, num, pct, stageBadge, time } from '../dom.js'
import type { View, ViewContext } from './view.js'

interface Data {
  system: SystemDetail
  metrics: MetricsPoint[]
}

/** Actions that make sense in each stage; the controller still has the last word (409 otherwise). */
function actionsFor(s: SystemDetail): string[] {
  const pause = s.paused ? 'resume' : 'pause'
  switch (s.stage) {
    case 'pending':
      return ['start']
    case 'shadow':
    case 'canary':
      return ['advance', 'promote', pause, 'rollback']
    case 'promoted':
      return ['finalize', 'rollback']
    case 'rolled-back':
      return ['retry']
    default:
      return []
  }
}

let reasonDraft = ''
const STEP_MS = 10_000
const RANGE_MS = 5 * 60_000

const DANGEROUS = new Set(['rollback', 'promote', 'finalize'])

function actionBar(s: SystemDetail, ctx: ViewContext): HTMLElement | null {
  if (ctx.role === 'viewer') return null
  const actions = actionsFor(s)
  if (actions.length === 0) return null
  // The page re-renders when data changes; keep what the operator is typing.
  const reason = h('input', {
    type: 'text',
    class: 'reason',
    placeholder: 'reason (audited)',
    'aria-label': 'reason',
    value: reasonDraft,
  }) as HTMLInputElement
  reason.addEventListener('input', () => {
    reasonDraft = reason.value
  })
  const force = h('input', { type: 'checkbox', 'aria-label': 'force' }) as HTMLInputElement
  const run = async (action: string, button: HTMLButtonElement) => {
    if (DANGEROUS.has(action) && !window.confirm(`${action} ${s.name}?`)) return
    button.disabled = true
    try {
      const body: { reason?: string; force?: boolean } = {}
      if (reason.value.trim() !== '') body.reason = reason.value.trim()
      if (action === 'start' && force.checked) body.force = true
      const res = await api<{ state: { stage: string } }>(`/systems/${encodeURIComponent(s.name)}/actions/${action}`, {
        method: 'POST',
        body,
      })
      reasonDraft = ''
      ctx.notify(`${action}: ${s.name} is now ${res.state.stage}`, 'ok')
    } catch (error) {
      ctx.notify(
        error instanceof ApiError ? `${action} refused: ${error.message} [${error.code}]` : String(error),
        'error',
      )
    } finally {
      button.disabled = false
      ctx.refresh()
    }
  }
  return h(
    'div',
    { class: 'actions', 'data-testid': 'actions' },
    ...actions.map((action) => {
      const button = h(
        'button',
        { type: 'button', class: `action ${DANGEROUS.has(action) ? 'danger' : ''}`, 'data-action': action },
        action,
      ) as HTMLButtonElement
      button.addEventListener('click', () => void run(action, button))
      return button
    }),
    reason,
    s.stage === 'pending' ? h('label', { class: 'small' }, force, ' force (skip checklist and wave gate)') : null,
  )
}

function steps(s: SystemDetail): HTMLElement {
  return h(
    'ol',
    { class: 'steps' },
    ...s.steps.map((step, i) => {
      const label =
        step.kind === 'shadow'
          ? `shadow ${num(Number(step.durationMs) / 60000, 1)} min`
          : step.kind === 'weight'
            ? `weight ${num(Number(step.weight))}` +
              ` %${Number(step.pauseMs) > 0 ? `, pause ${num(Number(step.pauseMs) / 60000, 1)} min` : ''}`
            : 'switch to candidate'
      const state = i < s.stepIndex ? 'done' : i === s.stepIndex ? 'current' : 'todo'
      return h('li', { class: `step ${state}` }, label, step.confirm ? ' (confirm)' : '')
    }),
  )
}

function timeline(s: SystemDetail): HTMLElement {
  const rows = [...s.decisions].reverse()
  return h(
    'section',
    { class: 'timeline', 'data-testid': 'timeline' },
    h('h2', {}, 'Stage timeline'),
    rows.length === 0
      ? h('p', { class: 'muted' }, 'No decision yet.')
      : h(
          'ol',
          {},
          ...rows.map((d) =>
            h(
              'li',
              {},
              h('span', { class: 'muted small' }, time(d.at)),
              ' ',
              h('strong', {}, d.action),
              ' ',
              stageBadge(d.fromStage),
              ' → ',
              stageBadge(d.toStage),
              ` weight ${num(d.weight)} % · by ${d.actor}`,
              h('div', { class: 'small' }, d.reason),
            ),
          ),
        ),
  )
}

/** Evidence as the controller stores it: `{ reason, rules: [{ rule, metric, value, threshold, samples, result }] }`. */
function evidenceTable(evidence: unknown): HTMLElement {
  const e = evidence as { reason?: unknown; rules?: unknown } | null
  const rules = Array.isArray(evidence) ? evidence : Array.isArray(e?.rules) ? (e!.rules as unknown[]) : null
  if (rules === null) return h('pre', { class: 'json' }, JSON.stringify(evidence, null, 2))
  const cols = ['rule', 'metric', 'value', 'threshold', 'baseline', 'samples', 'result']
  const cell = (v: unknown) =>
    v === null || v === undefined
      ? '–'
      : typeof v === 'number'
        ? num(v, 4)
        : typeof v === 'object'
          ? JSON.stringify(v)
          : String(v)
  return h(
    'div',
    {},
    typeof e?.reason === 'string' ? h('p', { class: 'small' }, e.reason) : null,
    h(
      'table',
      { class: 'evidence' },
      h('tr', {}, ...cols.map((c) => h('th', {}, c))),
      ...rules.map((r) => {
        const row = r as Record<string, unknown>
        return h('tr', { class: `result-${String(row.result ?? '')}` }, ...cols.map((c) => h('td', {}, cell(row[c]))))
      }),
    ),
  )
}

function verdicts(s: SystemDetail): HTMLElement {
  return h(
    'section',
    { class: 'verdicts', 'data-testid': 'verdicts' },
    h('h2', {}, 'Verdicts'),
    s.verdicts.length === 0
      ? h('p', { class: 'muted' }, 'No verdict yet.')
      : h(
          'div',
          {},
          ...s.verdicts.map((v) =>
            h(
              'details',
              { class: `verdict verdict-${v.verdict}` },
              h(
                'summary',
                {},
                h('span', { class: `badge verdict-${v.verdict}` }, v.verdict),
                ` ${time(v.at)} · ${v.stage} at ${num(v.weight)} % ·` +
                  ` ${v.judge}${v.score === null ? '' : ` · score ${num(v.score, 0)}`}`,
              ),
              evidenceTable(v.evidence),
            ),
          ),
        ),
  )
}

function charts(points: MetricsPoint[]): HTMLElement {
  const at = (p: MetricsPoint) => p.end
  return h(
    'section',
    { class: 'charts' },
    lineChart(
      'Latency p95 (ms)',
      [
        { label: 'legacy', className: 'legacy', points: points.map((p) => [at(p), p.legacy.p95] as const) },
        { label: 'candidate', className: 'candidate', points: points.map((p) => [at(p), p.candidate.p95] as const) },
      ],
      (v) => num(v, 1),
    ),
    lineChart(
      'Error rate',
      [
        { label: 'legacy', className: 'legacy', points: points.map((p) => [at(p), p.legacy.errorRate] as const) },
        {
          label: 'candidate',
          className: 'candidate',
          points: points.map((p) => [at(p), p.candidate.errorRate] as const),
        },
      ],
      (v) => pct(v, 1),
    ),
  )
}

export function systemView(name: string): View<Data> {
  const path = encodeURIComponent(name)
  return {
    title: () => name,
    load: async () => {
      // Windows aligned to the step: an idle system's data (and so the page) stays the same between polls.
      const until = Math.ceil(Date.now() / STEP_MS) * STEP_MS
      const [system, metrics] = await Promise.all([
        api<SystemDetail>(`/systems/${path}`),
        api<{ windows: MetricsPoint[] }>(
          `/systems/${path}/metrics?source=live&step=${STEP_MS}&since=${until - RANGE_MS}&until=${until}`,
        ),
      ])
      return { system, metrics: metrics.windows }
    },
    render: ({ system: s, metrics }, ctx) =>
      h(
        'div',
        { class: 'system', 'data-testid': 'system' },
        h(
          'section',
          { class: 'system-head' },
          h('h1', {}, s.name, ' ', h('span', { 'data-testid': 'stage' }, stageBadge(s.stage, s.paused))),
          h(
            'div',
            { class: 'facts' },
            h('span', {}, 'weight ', h('strong', { 'data-testid': 'weight' }, `${num(s.weight)} %`)),
            h('span', {}, `${s.kind} · ${s.priority} · ${s.category}${s.wave ? ` · wave ${s.wave}` : ''}`),
            h('span', {}, `active arm ${s.activeArm}`),
            s.verifiedThrough === undefined
              ? null
              : h(
                  'span',
                  { 'data-testid': 'verified-through' },
                  'verified through ',
                  h('strong', {}, s.verifiedThrough === null ? 'not yet' : new Date(s.verifiedThrough).toISOString()),
                ),
            h('a', { href: `#/systems/${path}/diffs`, class: 'button-link' }, 'Diff explorer →'),
          ),
          s.holdReason ? h('p', { class: 'hold' }, s.holdReason) : null,
          steps(s),
          actionBar(s, ctx),
        ),
        charts(metrics),
        h('div', { class: 'columns' }, timeline(s), verdicts(s)),
      ),
  }
}
