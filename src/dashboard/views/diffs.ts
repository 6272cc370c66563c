// Diff explorer: route -> field -> samples, legacy and candidate side by side with the differing
// JSON paths highlighted. The selection survives the periodic refresh.
import { api, type FieldDiff, type RouteDiff, type Sample } from '../api.js'
import { h, num, pct, type Child } from '../dom.js'
import type { View } from './view.js'

interface Data {
  routes: RouteDiff[]
}

const selection = { route: '', field: '' }

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

/** Pretty-print JSON as lines, marking every line at or under a differing path. */
function jsonLines(value: unknown, marked: ReadonlySet<string>): HTMLElement {
  const pre = h('pre', { class: 'json' })
  const isMarked = (ptr: string) => [...marked].some((m) => ptr === m || ptr.startsWith(`${m}/`))
  const line = (indent: number, text: string, ptr: string) => {
    pre.append(
      h('span', { class: isMarked(ptr) ? 'line diff' : 'line', 'data-pointer': ptr }, `${'  '.repeat(indent)}${text}`),
      '\n',
    )
  }
  const walk = (v: unknown, ptr: string, indent: number, prefix: string, comma: string) => {
    if (v !== null && typeof v === 'object') {
      const entries = Array.isArray(v)
        ? v.map((x, i) => [String(i), x] as const)
        : Object.entries(v as Record<string, unknown>)
      const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}']
      if (entries.length === 0) return line(indent, `${prefix}${open}${close}${comma}`, ptr)
      line(indent, `${prefix}${open}`, ptr)
      entries.forEach(([k, x], i) =>
        walk(
          x,
          `${ptr}/${escapePointer(k)}`,
          indent + 1,
          Array.isArray(v) ? '' : `${JSON.stringify(k)}: `,
          i < entries.length - 1 ? ',' : '',
        ),
      )
      line(indent, `${close}${comma}`, ptr)
    } else {
      line(indent, `${prefix}${JSON.stringify(v)}${comma}`, ptr)
    }
  }
  walk(value, '', 0, '', '')
  return pre
}

function side(label: string, response: Sample['legacy'], marked: ReadonlySet<string>): HTMLElement {
  return h(
    'div',
    { class: `side ${label}` },
    h('h4', {}, label, ' ', h('span', { class: 'muted small' }, `status ${response?.status ?? '–'}`)),
    jsonLines(response?.body ?? null, marked),
  )
}

function sampleView(sample: Sample, field: FieldDiff, index: number): HTMLElement {
  // Concrete paths of this sample's differences; the field path itself when the sample lists none.
  const marked = new Set((sample.differences ?? []).map((d) => d.path))
  if (marked.size === 0) marked.add(field.path)
  const req = sample.request ?? {}
  return h(
    'article',
    { class: 'sample', 'data-testid': 'sample' },
    h('h3', {}, `Sample ${index + 1}: `, h('code', {}, `${req.method ?? ''} ${req.url ?? req.path ?? ''}`)),
    (sample.differences?.length ?? 0) > 0
      ? h('ul', { class: 'small' }, ...sample.differences!.map((d) => h('li', {}, h('code', {}, d.path), ` ${d.kind}`)))
      : null,
    h(
      'div',
      { class: 'side-by-side' },
      side('legacy', sample.legacy, marked),
      side('candidate', sample.candidate, marked),
    ),
  )
}

interface PickerItem {
  readonly attr: Record<string, string>
  readonly selected: boolean
  readonly pick: () => void
  readonly content: Child[]
}

/** A titled list of buttons, one selected (routes, then the fields of the selected route). */
function picker(kind: string, title: string, empty: string, items: PickerItem[]): HTMLElement {
  return h(
    'nav',
    { class: `pick ${kind}` },
    h('h2', {}, title),
    items.length === 0 ? h('p', { class: 'muted' }, empty) : null,
    ...items.map((item) =>
      h(
        'button',
        { type: 'button', class: item.selected ? 'selected' : '', ...item.attr, onclick: item.pick },
        ...item.content,
      ),
    ),
  )
}

export function diffsView(name: string): View<Data> {
  const path = encodeURIComponent(name)
  return {
    title: () => `${name} · diffs`,
    load: async () => {
      const res = await api<{ routes: RouteDiff[] }>(`/systems/${path}/diffs`)
      return { routes: res.routes }
    },
    render: ({ routes }, ctx) => {
      const rerender = () => ctx.refresh()
      if (!routes.some((r) => r.route === selection.route)) selection.route = routes[0]?.route ?? ''
      const route = routes.find((r) => r.route === selection.route)
      if (route !== undefined && !route.fields.some((f) => f.path === selection.field))
        selection.field = route.fields[0]?.path ?? ''
      const field = route?.fields.find((f) => f.path === selection.field)

      const routeList = picker(
        'routes',
        'Routes',
        'Nothing compared yet.',
        routes.map((r) => ({
          attr: { 'data-route': r.route },
          selected: r.route === selection.route,
          pick: () => {
            selection.route = r.route
            selection.field = ''
            rerender()
          },
          content: [
            h('code', {}, r.route),
            h(
              'span',
              { class: 'small muted' },
              ` ${r.compared} compared · match ${pct(r.matchRate)} · ${r.mismatches} mismatches · ${r.skipped} skipped`,
            ),
          ],
        })),
      )
      const fieldList = picker(
        'fields',
        'Fields',
        'No differing field.',
        (route?.fields ?? []).map((f) => ({
          attr: { 'data-field': f.path },
          selected: f.path === selection.field,
          pick: () => {
            selection.field = f.path
            rerender()
          },
          content: [
            h('code', {}, f.path),
            ' ',
            h('span', { class: `badge ${f.real ? 'real' : 'noise'}` }, f.real ? 'real' : 'noise'),
            h(
              'span',
              { class: 'small muted' },
              ` ${f.kind} · raw ${f.raw} · noise ${f.noise} · ${num(f.total ? (100 * f.raw) / f.total : null)} %`,
            ),
          ],
        })),
      )
      const samples = h(
        'section',
        { class: 'samples' },
        h('h2', {}, field ? `Samples of ${field.path}` : 'Samples'),
        field === undefined || field.samples.length === 0
          ? h('p', { class: 'muted' }, 'No sample stored for this field.')
          : null,
        ...(field?.samples ?? []).map((s, i) => sampleView(s, field!, i)),
      )
      return h(
        'div',
        { class: 'diffs', 'data-testid': 'diffs' },
        h('div', { class: 'pickers' }, routeList, fieldList),
        samples,
      )
    },
  }
}
