import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { normalizePath, requestTarget } from './request-target.js'

describe('normalizePath', () => {
  it('removes dot segments (also percent-encoded), merges slashes and keeps a trailing slash', () => {
    expect(normalizePath('/api/items/1')).toBe('/api/items/1')
    expect(normalizePath('/other/../api/items/1')).toBe('/api/items/1')
    expect(normalizePath('/api/items/../../secret')).toBe('/secret')
    expect(normalizePath('/api/items/%2e%2e/%2E%2e/secret')).toBe('/secret')
    expect(normalizePath('/api/items/.%2e/x')).toBe('/api/x')
    expect(normalizePath('//api//items///2')).toBe('/api/items/2')
    expect(normalizePath('/a/./b/.')).toBe('/a/b/')
    expect(normalizePath('/a/b/..')).toBe('/a/')
    expect(normalizePath('/a/..')).toBe('/')
    expect(normalizePath('/.well-known/x')).toBe('/.well-known/x')
    expect(normalizePath('/%61pi/%7Eme')).toBe('/api/~me')
  })

  it('keeps reserved and non-ASCII percent-encodings as they are', () => {
    expect(normalizePath('/files/a%2Fb/%20c/%C3%A9')).toBe('/files/a%2Fb/%20c/%C3%A9')
  })

  it('refuses a path that climbs above the root', () => {
    expect(normalizePath('/..')).toBeNull()
    expect(normalizePath('/a/../../b')).toBeNull()
    expect(normalizePath('/%2e%2e/etc/passwd')).toBeNull()
  })

  it('always yields a path without dot segments or empty segments, and is idempotent', () => {
    const segment = fc.oneof(
      fc.constantFrom('', '.', '..', '%2e', '%2E%2e', '.%2e', 'a', 'b.c', '%62'),
      fc.stringMatching(/^[a-z.%2e]{0,4}$/),
    )
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segments) => {
        const out = normalizePath(`/${segments.join('/')}`)
        if (out === null) return
        expect(out.startsWith('/')).toBe(true)
        const inner = out.slice(1).split('/')
        if (out.endsWith('/')) inner.pop()
        for (const s of out === '/' ? [] : inner) expect(['', '.', '..']).not.toContain(s)
        expect(normalizePath(out)).toBe(out)
      }),
    )
  })
})

describe('requestTarget', () => {
  it('reduces absolute-form to its path and keeps the authority as the host', () => {
    expect(requestTarget('GET', 'http://shop.example:8080/other/../api/items/3?x=1')).toEqual({
      kind: 'path',
      url: '/api/items/3?x=1',
      path: '/api/items/3',
      query: 'x=1',
      host: 'shop.example:8080',
    })
    expect(requestTarget('GET', 'http://h')).toMatchObject({ kind: 'path', url: '/', host: 'h' })
    expect(requestTarget('GET', 'http://h?q')).toMatchObject({ kind: 'path', url: '/?q', path: '/' })
  })

  it('leaves the query alone and returns the same string when nothing changes', () => {
    const url = '/a/b?next=/../x&y=%2e%2e'
    expect(requestTarget('GET', url)).toMatchObject({ url, path: '/a/b', query: 'next=/../x&y=%2e%2e' })
  })

  it('tells OPTIONS * apart from other targets that are not a path', () => {
    expect(requestTarget('OPTIONS', '*')).toEqual({ kind: 'asterisk' })
    expect(requestTarget('GET', '*').kind).toBe('unsupported')
    expect(requestTarget('GET', 'ftp://h/x').kind).toBe('unsupported')
    expect(requestTarget('GET', '/../x')).toEqual({ kind: 'outside-root', path: '/../x' })
  })
})
