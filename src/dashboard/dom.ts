// A tiny element builder and formatters for the dashboard; text always goes through textContent, so
// nothing from the API is ever parsed as HTML.
export type Child = Node | string | number | null | undefined | false
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>

export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, ''), value)
    else if (value === true) el.setAttribute(key, '')
    else el.setAttribute(key, String(value))
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    el.append(typeof child === 'object' ? child : String(child))
  }
  return el
}

export function pct(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || Number.isNaN(value) ? '–' : `${(value * 100).toFixed(digits)} %`
}

export function num(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–'
  const text = value.toFixed(digits)
  // Trim trailing zeros of the fraction only ("2.50" -> "2.5", "0" stays "0").
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text
}

export function time(ms: number): string {
  return new Date(ms).toLocaleString()
}

export function stageBadge(stage: string, paused = false): HTMLElement {
  return h('span', { class: `badge stage-${stage}` }, stage, paused ? ' ⏸' : '')
}
