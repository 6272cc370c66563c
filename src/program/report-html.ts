// `tandem report --format html`: one self-contained page (inline CSS and SVG, no script, no external
// resource) that can be mailed or attached to a ticket and still reads well in a browser.
import { STAGES } from '../domain/stages.js'
import type { ProgramReport } from './report-data.js'
import { changeBars, esc, scoreRing, STAGE_COLORS, stageBars } from './report-charts.js'
import { change, hours, kpiRows, pct, programLine, span, targetOf, when } from './report-format.js'

// A backslash at the end of a line inside a template literal continues the line: it adds no character.
const CSS = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;\
color:#0f172a;background:#f8fafc}
main{max-width:1260px;margin:0 auto;padding:28px 32px 60px}h1{font-size:26px;margin:0 0 4px}h2{font-size:18px;\
margin:34px 0 12px;border-bottom:1px solid #e2e8f0;padding-bottom:6px}
.muted{color:#64748b}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px;flex:1}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:12px 14px}.card .v{font-size:20px;\
font-weight:650}.card .k{color:#64748b;font-size:12px}
.top{display:flex;gap:20px;align-items:center}.ring{background:#fff;border:1px solid #e2e8f0;border-radius:10px;\
padding:10px 18px;text-align:center}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #e2e8f0;border-radius:10px;overflow:hidden;\
font-size:13px}
th,td{padding:6px 7px;text-align:left;border-bottom:1px solid #f1f5f9;white-space:nowrap}th{background:#f1f5f9;\
font-weight:600}td.num,th.num{text-align:right}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;color:#0f172a}.open{color:#15803d}\
.closed{color:#b91c1c}
svg text.lbl{font-size:12px;fill:#334155}svg text.lgd{font-size:11px;fill:#475569}svg text.in{font-size:11px;\
fill:#0f172a}svg text.big{font-size:24px;font-weight:700;fill:#0f172a}
.panel{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:14px}.grid2{display:grid;\
grid-template-columns:1fr 1fr;gap:16px}
details{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:10px 14px;margin:10px 0}\
summary{cursor:pointer;font-weight:600}
pre{background:#0f172a;color:#e2e8f0;padding:10px;border-radius:8px;overflow:auto;max-height:340px;font-size:12px}
@media print{body{background:#fff}details{break-inside:avoid}}
`

/** The failure report's evidence, decisions, metrics and diffs, pretty-printed and cut at 20 000 characters. */
function failureJson(content: Record<string, unknown>): string {
  const { evidence, recentDecisions, metrics, diffs } = content
  return JSON.stringify({ evidence, recentDecisions, metrics, diffs }, null, 2).slice(0, 20000)
}

function stagePill(stage: string, paused: boolean): string {
  const color = STAGE_COLORS[stage as keyof typeof STAGE_COLORS] ?? '#e2e8f0'
  return (
    `<span class="pill"` +
    ` style="background:${color}">${esc(stage)}</span>${paused ? ' <span class="muted">paused</span>' : ''}`
  )
}

export function renderHtml(r: ProgramReport): string {
  const k = r.kpis
  const cards = kpiRows(k)
    .filter((row) => row.key !== 'successScore')
    .map((row) => {
      const t = targetOf(r.targets, row.key)
      const goal =
        t.met === null ? '' : `<div class="k ${t.met ? 'open' : 'closed'}">target ${esc(t.target)}: ${t.status}</div>`
      return (
        `<div class="card"><div class="k">${esc(row.label)}</div><div` +
        ` class="v">${esc(row.value)}</div>${goal}</div>`
      )
    })
    .join('')

  const overall = Object.fromEntries(STAGES.map((s) => [s, r.systems.filter((x) => x.stage === s).length])) as Record<
    (typeof STAGES)[number],
    number
  >
  const waveRows = [
    { label: 'all systems', counts: overall },
    ...r.waves.map((w) => ({ label: w.name, counts: w.counts })),
  ]

  const waveTable =
    r.waves.length === 0
      ? '<p class="muted">No waves are declared.</p>'
      : `<table><tr><th>#</th><th>wave</th><th>rollback</th><th class="num">max concurrent</th><th \
class="num">systems</th><th class="num">active</th><th class="num">done</th><th>status</th></tr>${r.waves
          .map(
            (w) =>
              `<tr><td>${w.index + 1}</td><td>${esc(w.name)}</td><td>${w.rollback}</td><td` +
              ` class="num">${w.maxConcurrent}</td><td class="num">${w.systems.length}</td><td` +
              ` class="num">${w.active}</td><td class="num">${w.done}</td><td` +
              ` class="${w.open ? 'open' : 'closed'}" style="white-space:normal">${esc(w.reason)}</td></tr>`,
          )
          .join('')}</table>`

  const plans =
    r.wavePlans.length === 0
      ? ''
      : `<table style="margin-top:12px"><tr><th>wave</th><th class="num">planned</th><th class="num">actual</th><th \
class="num">remaining</th><th>planned end</th><th>projected end</th><th>on plan</th></tr>${r.wavePlans
          .map(
            (p) =>
              `<tr><td>${esc(p.wave)}</td><td class="num">${span(p.plannedMs)}</td><td` +
              ` class="num">${span(p.actualMs)}</td><td` +
              ` class="num">${p.remaining}</td><td>${when(p.plannedEnd)}</td><td>${when(p.projectedEnd)}</td><td` +
              ` class="${p.late ? 'closed' : 'open'}">${p.late === null ? '—' : p.late ? 'late' : 'yes'}</td></tr>`,
          )
          .join('')}</table>`
  const halted = r.program.halted
    ? `<p class="halted" style="background:#fee2e2;border:1px solid` +
      ` #b91c1c;color:#7f1d1d;border-radius:10px;padding:10px 14px;font-weight:600">${esc(programLine(r.program))}</p>`
    : ''
  const measured = r.systems.filter((s) => s.latencyChange !== null || s.throughputChange !== null)
  const latency = changeBars(
    measured.filter((s) => s.latencyChange !== null).map((s) => ({ label: s.name, value: s.latencyChange! })),
    true,
    560,
  )
  const throughput = changeBars(
    measured.filter((s) => s.throughputChange !== null).map((s) => ({ label: s.name, value: s.throughputChange! })),
    false,
    560,
  )

  const systemRows = r.systems
    .map(
      (s) =>
        `<tr><td>${esc(s.name)}</td><td>${esc(s.category)}</td><td>${s.priority}</td><td>${esc(s.wave ?? '—')}</td><td>\
${stagePill(s.stage, s.paused)}</td><td class="num">${s.weight} %</td><td class="num">${pct(s.matchRate)}</td><td \
class="num">${change(s.latencyChange)}</td><td class="num">${change(s.throughputChange)}</td><td class="num">\
${hours(s.migrationHours)}</td><td class="num">${s.verdicts.pass}/${s.verdicts.fail}/${s.verdicts.inconclusive}</td>\
<td class="num">${s.rollbacks}</td></tr>`,
    )
    .join('')

  const rollbacks =
    r.rollbacks.length === 0
      ? '<p class="muted">No rollbacks.</p>'
      : r.rollbacks
          .map((b) => {
            const report = b.failureReport
            const body =
              report === null
                ? '<p class="muted">No failure report found for this rollback.</p>'
                : `<p class="muted">${esc(report.file)}</p><pre>${esc(failureJson(report.content))}</pre>`
            const verified =
              b.verification === null
                ? 'Verification pending or not recorded.'
                : esc(`${b.verification.result}: ${b.verification.reason}`)
            return `<details><summary>${esc(b.system)} — ${when(b.at)} — ${esc(b.reason || 'no reason recorded')}\
</summary><p>From <b>${esc(b.fromStage ?? '—')}</b> at weight ${b.weight ?? '—'} %, by ${esc(b.actor ?? '—')}.</p><p \
class="${b.verification?.result === 'rollback-failed' ? 'closed' : 'open'}">\
${verified}</p>${body}</details>`
          })
          .join('')

  const unassigned =
    r.unassigned.length > 0
      ? `<p class="muted">Not in any wave (gated by their checklist only): ${esc(r.unassigned.join(', '))}</p>`
      : ''

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Migration program report</title><style>${CSS}</style></head>
<body><main>
<h1>Migration program report</h1>
<p class="muted">Generated ${when(r.generatedAt)} from store <code>${esc(r.store)}</code> · ${r.systems.length} \
systems in ${r.waves.length} waves</p>
${halted}
<h2>KPIs</h2>
<p class="muted">${r.targets.filter((t) => t.met).length} of ${r.targets.length} targets met</p>
<div class="top"><div class="ring">${scoreRing(k.successScore, 'success score')}<div class="k muted">\
${k.successScore === null ? 'success score: shown once a system is promoted or rolled back' : 'success score'}</div>\
</div><div class="cards">${cards}</div></div>
<h2>Progress by wave</h2>
<div class="panel">${stageBars(waveRows, 1100)}</div>
<div style="margin-top:12px">${waveTable}</div>
${plans}
${unassigned}
<h2>Candidate vs legacy</h2>
<div class="grid2"><div class="panel"><b>Latency change</b> <span class="muted">(lower is better)</span>${latency}\
</div><div class="panel"><b>Throughput change</b> <span class="muted">(successes per request)</span>${throughput}</div>\
</div>
<h2>Systems</h2>
<div style="overflow-x:auto"><table><tr><th>system</th><th>category</th><th>priority</th><th>wave</th><th>stage</th>\
<th class="num">weight</th><th class="num">match rate</th><th class="num">latency</th><th class="num">throughput</th>\
<th class="num">in migration</th><th class="num">verdicts p/f/i</th><th class="num">rollbacks</th></tr>${systemRows}\
</table></div>
${movesHtml(r)}<h2>Rollbacks</h2>
${rollbacks}
</main></body></html>
`
}

/** Data and event moves: each one's verified-through time (empty when the program has none). */
function movesHtml(r: ProgramReport): string {
  const moves = r.systems.filter((s) => s.verifiedThrough !== undefined)
  if (moves.length === 0) return ''
  const items = moves.map(
    (s) =>
      `<li>${esc(s.name)}:` +
      ` ${s.verifiedThrough == null ? 'no window verified yet' : new Date(s.verifiedThrough).toISOString()}</li>`,
  )
  return `<p class="muted">Data and event moves, verified through:</p><ul>${items.join('')}</ul>\n`
}
