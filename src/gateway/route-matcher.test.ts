import { describe, expect, it } from 'vitest'
import { RouteMatcher } from './route-matcher.js'

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
