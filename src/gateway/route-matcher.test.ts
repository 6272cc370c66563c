import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { PathPattern, RouteMatcher } from './route-matcher.js'

describe('RouteMatcher', () => {
  const m = new RouteMatcher([
    { path: '/todos/:id', methods: ['GET', 'PUT'], value: 'todo' },
    { path: '/todos/**', value: 'todos-any' },
    { path: '/files/*.txt', value: 'text-file' },
    { path: '/health', value: 'health' },
    { path: '*', methods: ['GET'], value: 'catch-all' },
  ])

  it('matches templates, globs and literals in order; the first match wins', () => {
    expect(m.match('GET', '/todos/42')).toBe('todo')
    expect(m.match('HEAD', '/todos/42')).toBe('todo')
    expect(m.match('DELETE', '/todos/42')).toBe('todos-any')
    expect(m.match('GET', '/todos/42/comments/1')).toBe('todos-any')
    expect(m.match('POST', '/todos')).toBe('todos-any')
    expect(m.match('GET', '/files/a.txt')).toBe('text-file')
    expect(m.match('POST', '/health/')).toBe('health')
    expect(m.match('GET', '/files/a/b.txt')).toBe('catch-all')
    expect(m.match('POST', '/other')).toBeUndefined()
  })

  it('does not let :param or * cross a slash or match an empty segment', () => {
    const t = new RouteMatcher([{ path: '/a/:id/b', value: 1 }])
    expect(t.match('GET', '/a/1/b')).toBe(1)
    expect(t.match('GET', '/a//b')).toBeUndefined()
    expect(t.match('GET', '/a/1/2/b')).toBeUndefined()
  })

  it('treats regular expression characters in paths literally', () => {
    const t = new RouteMatcher([{ path: '/v1.0/(x)/:id', value: 1 }])
    expect(t.match('GET', '/v1.0/(x)/3')).toBe(1)
    expect(t.match('GET', '/v1x0/(x)/3')).toBeUndefined()
  })
})

/** The matcher before the segment rewrite (a regular expression per template), kept as the reference semantics. */
function referenceRegExp(path: string): RegExp {
  if (path === '*' || path === '/**' || path === '**') return /^\/.*$|^$/
  let out = '^'
  const segments = path.split('/').slice(1)
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!
    if (seg === '**') {
      out += i === segments.length - 1 ? '(?:/.*)?' : '(?:/[^/]*)*?'
      continue
    }
    out += '/'
    if (seg.startsWith(':') && seg.length > 1) out += '[^/]+'
    else
      out += seg
        .split('*')
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*')
  }
  return new RegExp(`${out}/?$`)
}

describe('PathPattern', () => {
  // Small alphabets so that templates and paths collide often.
  const templateSegment = fc.oneof(
    fc.constant('**'),
    fc.constant(':id'),
    fc.constant('*'),
    fc.constant(''),
    fc.stringMatching(/^[ab.*]{1,4}$/),
  )
  const template = fc.array(templateSegment, { minLength: 1, maxLength: 5 }).map((s) => `/${s.join('/')}`)
  const path = fc.oneof(
    fc.constant(''),
    fc.array(fc.stringMatching(/^[ab.]{0,3}$/), { minLength: 1, maxLength: 7 }).map((s) => `/${s.join('/')}`),
  )

  it('matches exactly what the former regular expression matched', () => {
    fc.assert(
      fc.property(template, path, (t, p) => {
        expect(new PathPattern(t).test(p), `${t} on ${p}`).toBe(referenceRegExp(t).test(p))
      }),
      { numRuns: 5_000 },
    )
  })

  it('keeps the work of an adversarial 13 KB path linear in its length (several ** and near-misses)', () => {
    const t = '/shop/**/orders/**/lines/**/detail'
    const pattern = new PathPattern(t)
    const elements = t.split('/').length - 1
    const near = `/shop${'/orders/lines'.repeat(1000)}/details`
    const hit = `/shop${'/orders/lines'.repeat(1000)}/detail`
    for (const [p, expected] of [
      [near, false],
      [hit, true],
      [`${hit}/`, true],
    ] as const) {
      expect(p.length).toBeGreaterThan(13_000)
      const meter = { steps: 0 }
      expect(pattern.test(p, meter)).toBe(expected)
      const segments = p.split('/').length
      // Two attempts (with and without a trailing slash), each at most (elements + 1) passes over the segments and
      // their characters.
      expect(meter.steps).toBeLessThanOrEqual(2 * (elements + 1) * (segments + p.length))
    }
  })

  it('matches the adversarial path through RouteMatcher too (the gateway answers it, no stall)', () => {
    const m = new RouteMatcher([{ path: '/shop/**/orders/**/lines/**/detail', value: 'lines' }])
    expect(m.match('GET', `/shop${'/orders/lines'.repeat(1000)}/detail`)).toBe('lines')
    expect(m.match('GET', `/shop${'/orders/lines'.repeat(1000)}/details`)).toBeUndefined()
  })
})
