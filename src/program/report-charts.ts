// Inline SVG charts for the HTML report: no script, no external resource, readable when printed.
import { STAGES, type Stage } from '../domain/stages.js'

export const STAGE_COLORS: Record<Stage, string> = {
  pending: '#cbd5e1',
  shadow: '#a78bfa',
  canary: '#f59e0b',
  promoted: '#22c55e',
  completed: '#15803d',
  'rolled-back': '#ef4444',
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** One horizontal bar per row, split by stage. */
export function stageBars(
  rows: readonly { label: string; counts: Readonly<Record<Stage, number>> }[],
  width = 760,
): string {
  const labelW = 130
  const barW = width - labelW - 60
  const rowH = 30
  const height = rows.length * rowH + 34
  const parts: string[] = []
  rows.forEach((row, i) => {
    const total = STAGES.reduce((n, s) => n + row.counts[s], 0)
    const y = i * rowH + 4
    parts.push(`<text x="${labelW - 8}" y="${y + 17}" text-anchor="end" class="lbl">${esc(row.label)}</text>`)
    let x = labelW
    for (const s of STAGES) {
      const n = row.counts[s]
      if (n === 0 || total === 0) continue
      const w = (n / total) * barW
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="22"` +
          ` fill="${STAGE_COLORS[s]}"><title>${esc(`${row.label}: ${n} ${s}`)}</title></rect>`,
      )
      if (w > 18)
        parts.push(`<text x="${(x + w / 2).toFixed(1)}" y="${y + 15}" text-anchor="middle" class="in">${n}</text>`)
      x += w
    }
    if (total === 0)
      parts.push(
        `<rect x="${labelW}" y="${y}" width="${barW}" height="22" fill="none" stroke="#cbd5e1" stroke-dasharray="4` +
          ` 3"/>`,
      )
    parts.push(`<text x="${labelW + barW + 8}" y="${y + 17}" class="lbl">${total}</text>`)
  })
  const legendY = rows.length * rowH + 18
  let lx = labelW
  for (const s of STAGES) {
    parts.push(
      `<rect x="${lx}" y="${legendY}" width="12" height="12" fill="${STAGE_COLORS[s]}"/><text x="${lx + 16}"` +
        ` y="${legendY + 10}" class="lgd">${s}</text>`,
    )
    lx += 16 + s.length * 7 + 18
  }
  return (
    `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="systems by` +
    ` stage">${parts.join('')}</svg>`
  )
}

/** A ring showing a 0..1 score with its value in the middle; an empty ring and a dash when there is none yet. */
export function scoreRing(score: number | null, label: string): string {
  const r = 52
  const c = 2 * Math.PI * r
  const v = score === null ? 0 : Math.min(1, Math.max(0, score))
  const color = v >= 0.8 ? '#16a34a' : v >= 0.5 ? '#d97706' : '#dc2626'
  return `<svg viewBox="0 0 140 140" width="140" height="140" role="img" aria-label="${esc(label)}">
<circle cx="70" cy="70" r="${r}" fill="none" stroke="#e2e8f0" stroke-width="14"/>
<circle cx="70" cy="70" r="${r}" fill="none" stroke="${color}" stroke-width="14" \
stroke-dasharray="${(v * c).toFixed(1)} ${c.toFixed(1)}" transform="rotate(-90 70 70)"/>
<text x="70" y="76" text-anchor="middle" class="big">${score === null ? '—' : score.toFixed(2)}</text></svg>`
}

/** Diverging horizontal bars around zero for relative changes (latency, throughput) per system. */
export function changeBars(
  rows: readonly { label: string; value: number }[],
  lowerIsBetter: boolean,
  width = 760,
): string {
  if (rows.length === 0) return '<p class="muted">No measurements yet.</p>'
  const labelW = 160
  const plotW = width - labelW - 70
  const max = Math.max(0.05, ...rows.map((r) => Math.abs(r.value)))
  const mid = labelW + plotW / 2
  const rowH = 22
  const parts: string[] = [`<line x1="${mid}" y1="0" x2="${mid}" y2="${rows.length * rowH}" stroke="#94a3b8"/>`]
  rows.forEach((row, i) => {
    const y = i * rowH + 3
    // Leave room beside the longest bar for its value label.
    const w = (Math.abs(row.value) / max) * (plotW / 2 - 56)
    const good = lowerIsBetter ? row.value <= 0 : row.value >= 0
    const x = row.value >= 0 ? mid : mid - w
    parts.push(`<text x="${labelW - 8}" y="${y + 13}" text-anchor="end" class="lbl">${esc(row.label)}</text>`)
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(1, w).toFixed(1)}" height="16"` +
        ` fill="${good ? '#22c55e' : '#ef4444'}"/>`,
    )
    const tx = row.value >= 0 ? mid + w + 4 : mid - w - 4
    parts.push(
      `<text x="${tx.toFixed(1)}" y="${y + 13}" text-anchor="${row.value >= 0 ? 'start' : 'end'}"` +
        ` class="lgd">${row.value > 0 ? '+' : ''}${(row.value * 100).toFixed(1)} %</text>`,
    )
  })
  return `<svg viewBox="0 0 ${width} ${rows.length * rowH + 4}" width="100%" role="img">${parts.join('')}</svg>`
}
