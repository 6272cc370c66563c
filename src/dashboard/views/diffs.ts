// Diff explorer: route -> field -> samples, legacy and candidate side by side with the differing
// JSON paths highlighted. The selection survives the periodic refresh.
import { api, type FieldDiff, type RouteDiff, type Sample } from '../api.js'
import { h, num, pct } from '../dom.js'
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
    pre.append(h('span', { class: isMarked(ptr) ? 'line diff' : 'line', 'data-pointer': ptr }, `${'  '.repeat(indent)}${text}`), '\n')
  }
  const walk = (v: unknown, ptr: string, indent: number, prefix: string, comma: string) => {
    if (v !== null && typeof v === 'object') {
      const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v as Record<string, unknown>)
      const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}']
      if (entries.length === 0) return line(indent, `${prefix}${open}${close}${comma}`, ptr)
      line(indent, `${prefix}${open}`, ptr)
      entries.forEach(([k, x], i) => walk(x, `${ptr}/${escapePointer(k)}`, indent + 1, Array.isArray(v) ? '' : `${JSON.stringify(k)}: `, i < entries.length - 1 ? ',' : ''))
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
    h('div', { class: 'side-by-side' }, side('legacy', sample.legacy, marked), side('candidate', sample.candidate, marked)),
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
      if (route !== undefined && !route.fields.some((f) => f.path === selection.field)) selection.field = route.fields[0]?.path ?? ''
      const field = route?.fields.find((f) => f.path === selection.field)

      const routeList = h(
        'nav',
        { class: 'pick routes' },
        h('h2', {}, 'Routes'),
        routes.length === 0 ? h('p', { class: 'muted' }, 'Nothing compared yet.') : null,
        ...routes.map((r) =>
          h(
            'button',
            {
              type: 'button',
              class: r.route === selection.route ? 'selected' : '',
              'data-route': r.route,
              onclick: () => {
                selection.route = r.route
                selection.field = ''
                rerender()
              },
            },
            h('code', {}, r.route),
            h('span', { class: 'small muted' }, ` ${r.compared} compared · match ${pct(r.matchRate)} · ${r.mismatches} mismatches · ${r.skipped} skipped`),
          ),
        ),
      )
      const fieldList = h(
        'nav',
        { class: 'pick fields' },
        h('h2', {}, 'Fields'),
        route === undefined || route.fields.length === 0 ? h('p', { class: 'muted' }, 'No differing field.') : null,
        ...(route?.fields ?? []).map((f) =>
          h(
            'button',
            {
              type: 'button',
              class: f.path === selection.field ? 'selected' : '',
              'data-field': f.path,
              onclick: () => {
                selection.field = f.path
                rerender()
              },
            },
            h('code', {}, f.path),
            ' ',
            h('span', { class: `badge ${f.real ? 'real' : 'noise'}` }, f.real ? 'real' : 'noise'),
            h('span', { class: 'small muted' }, ` ${f.kind} · raw ${f.raw} · noise ${f.noise} · ${num(f.total ? (100 * f.raw) / f.total : null)} %`),
          ),
        ),
      )
      const samples = h(
        'section',
        { class: 'samples' },
        h('h2', {}, field ? `Samples of ${field.path}` : 'Samples'),
        field === undefined || field.samples.length === 0 ? h('p', { class: 'muted' }, 'No sample stored for this field.') : null,
        ...(field?.samples ?? []).map((s, i) => sampleView(s, field!, i)),
      )
      return h('div', { class: 'diffs', 'data-testid': 'diffs' }, h('div', { class: 'pickers' }, routeList, fieldList), samples)
    },
  }
}
