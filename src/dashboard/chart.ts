// A small SVG line chart for two series (legacy vs candidate) over time; no library, works offline.
const W = 560
const H = 180
const PAD = { left: 48, right: 12, top: 12, bottom: 24 }
const NS = 'http://www.w3.org/2000/svg'

export interface Series {
  readonly label: string
  readonly className: string
  readonly points: ReadonlyArray<readonly [number, number | null]>
}

function el(tag: string, attrs: Record<string, string | number>): SVGElement {
  const node = document.createElementNS(NS, tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  return node
}

export function lineChart(title: string, series: readonly Series[], format: (v: number) => string): HTMLElement {
  const figure = document.createElement('figure')
  figure.className = 'chart'
  const caption = document.createElement('figcaption')
  caption.textContent = title
  for (const s of series) {
    const key = document.createElement('span')
    key.className = `key ${s.className}`
    key.textContent = s.label
    caption.append(' ', key)
  }
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title }) as SVGSVGElement
  const xs = series.flatMap((s) => s.points.map((p) => p[0]))
  const ys = series.flatMap((s) => s.points.map((p) => p[1]).filter((v): v is number => v !== null))
  const x0 = Math.min(...xs)
  const x1 = Math.max(...xs)
  const y1 = Math.max(...ys, 0) * 1.1 || 1
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right)
  const sy = (y: number) => H - PAD.bottom - (y / y1) * (H - PAD.top - PAD.bottom)
  for (const frac of [0, 0.5, 1]) {
    const y = sy(y1 * frac)
    svg.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: 'grid' }))
    const label = el('text', { x: PAD.left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' })
    label.textContent = format(y1 * frac)
    svg.append(label)
  }
  if (xs.length > 0) {
    for (const [x, anchor] of [
      [x0, 'start'],
      [x1, 'end'],
    ] as const) {
      const label = el('text', { x: sx(x), y: H - 6, class: 'axis', 'text-anchor': anchor })
      label.textContent = new Date(x).toLocaleTimeString()
      svg.append(label)
    }
  }
  for (const s of series) {
    // Gaps (no requests in a window) break the line instead of drawing a misleading zero.
    let d = ''
    let pen = false
    for (const [x, y] of s.points) {
      if (y === null) {
        pen = false
        continue
      }
      d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`
      pen = true
    }
    svg.append(el('path', { d: d || 'M0,0', class: `line ${s.className}` }))
    // Dots keep isolated windows (a single busy window between idle ones) visible.
    for (const [x, y] of s.points)
      if (y !== null) svg.append(el('circle', { cx: sx(x), cy: sy(y), r: 2.5, class: `dot ${s.className}` }))
  }
  if (ys.length === 0) {
    const empty = el('text', { x: W / 2, y: H / 2, class: 'axis', 'text-anchor': 'middle' })
    empty.textContent = 'no traffic in this period'
    svg.append(empty)
  }
  figure.append(caption, svg)
  return figure
}
