// Program overview: KPI cards, waves in order, and every system grouped by stage.
import { STAGES } from '../../domain/stages.js'
import { api, type Report, type SystemSummary } from '../api.js'
import { h, num, pct, stageBadge } from '../dom.js'
import type { View } from './view.js'

interface Data {
  report: Report
  systems: SystemSummary[]
}

const KPI_CARDS: Array<[key: string, label: string, format: (v: number) => string]> = [
  ['systemsMigrated', 'Systems migrated', (v) => num(v, 0)],
  ['successScore', 'Success score', (v) => pct(v, 0)],
  ['validationSuccessRate', 'Validation success', (v) => pct(v)],
  ['rollbackCount', 'Rollbacks', (v) => num(v, 0)],
  ['failedMigrations', 'Failed migrations', (v) => num(v, 0)],
  ['migrationRate', 'Systems / day', (v) => num(v)],
  ['avgLatencyChange', 'Avg latency change', (v) => pct(v)],
  ['avgThroughputImprovement', 'Avg throughput change', (v) => pct(v)],
  ['avgMigrationTimeHours', 'Avg migration time (h)', (v) => num(v, 1)],
  ['totalDowntimeMinutes', 'Downtime (min)', (v) => num(v, 1)],
]

export const overview: View<Data> = {
  title: () => 'Program',
  load: async () => {
    const [report, list] = await Promise.all([api<Report>('/report'), api<{ systems: SystemSummary[] }>('/systems')])
    return { report, systems: list.systems }
  },
  render: ({ report, systems }) => {
    const k = report.kpis
    const cards = h(
      'section',
      { class: 'kpis', 'data-testid': 'kpis' },
      ...KPI_CARDS.map(([key, label, format]) => {
        const target = report.targets?.find((t) => t.kpi === key)
        return h(
          'div',
          { class: 'card', 'data-kpi': key },
          h(
            'div',
            { class: 'kpi-value' },
            key === 'systemsMigrated' ? `${format(k[key] ?? 0)} / ${k.systemsTotal ?? 0}` : format(k[key] ?? NaN),
          ),
          // No score before the first promotion or rollback: there is nothing to score yet.
          h(
            'div',
            { class: 'kpi-label' },
            key === 'successScore' && k[key] === null ? `${label} (after a promotion or rollback)` : label,
          ),
          target === undefined
            ? null
            : h(
                'div',
                { class: `kpi-target small ${target.met ? 'met' : 'missed'}` },
                `target ${target.target}: ${target.met ? 'met' : 'missed'}`,
              ),
        )
      }),
    )
    // A halted program (mass failure or `tandem program halt`) is said first, in a banner.
    const p = report.program
    const banner = p?.halted
      ? h(
          'div',
          { class: 'halt-banner', role: 'alert', 'data-testid': 'halt-banner' },
          h('strong', {}, 'Program halted'),
          ` — ${p.reason ?? 'no reason recorded'} (by ${p.actor ?? 'an operator'} at` +
            ` ${new Date(p.at).toISOString()}). Nothing starts or advances; rollbacks still happen. Run \`tandem` +
            ` program resume\` once fixed.`,
        )
      : null
    const byName = new Map(systems.map((s) => [s.name, s]))
    const waves = h(
      'section',
      { class: 'waves' },
      h('h2', {}, 'Waves'),
      report.waves.length === 0
        ? h('p', { class: 'muted' }, 'No waves declared: systems start as soon as their checklist passes.')
        : h(
            'ol',
            { class: 'wave-list' },
            ...report.waves.map((w) =>
              h(
                'li',
                { class: `wave ${w.open ? 'open' : 'closed'}`, 'data-wave': w.name },
                h(
                  'div',
                  { class: 'wave-head' },
                  h('strong', {}, w.name),
                  h('span', { class: 'badge' }, w.open ? 'open' : 'closed'),
                  h('span', { class: 'muted' }, `${w.done}/${w.systems.length} done`),
                ),
                h('div', { class: 'muted small' }, w.reason),
                h(
                  'div',
                  { class: 'chips' },
                  ...w.systems.map((name) =>
                    h(
                      'a',
                      { class: 'chip', href: `#/systems/${name}` },
                      name,
                      ' ',
                      stageBadge(byName.get(name)?.stage ?? 'pending'),
                    ),
                  ),
                ),
              ),
            ),
          ),
    )
    const columns = h(
      'section',
      { class: 'stages' },
      h('h2', {}, 'Systems by stage'),
      h(
        'div',
        { class: 'stage-columns' },
        ...STAGES.map((stage) => {
          const members = systems.filter((s) => s.stage === stage)
          return h(
            'div',
            { class: 'stage-column', 'data-stage': stage },
            h('h3', {}, stageBadge(stage), ` ${members.length}`),
            ...members.map((s) =>
              h(
                'a',
                { class: 'system-card', href: `#/systems/${s.name}`, 'data-system': s.name },
                h('strong', {}, s.name),
                h('span', { class: 'muted small' }, `${s.priority} · ${s.category}${s.wave ? ` · ${s.wave}` : ''}`),
                h('span', { class: 'small' }, `weight ${num(s.weight)} %`, s.paused ? ' · paused' : ''),
                s.holdReason ? h('span', { class: 'hold small' }, s.holdReason) : null,
              ),
            ),
          )
        }),
      ),
    )
    return h('div', { class: 'overview' }, banner, cards, waves, columns)
  },
}
