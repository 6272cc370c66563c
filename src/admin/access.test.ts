// Unit tests of access control: the loopback bind check, token matching, role order and the failure limiter.
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import { assertAdminBindSafe, isLoopbackHost, listenHost } from './bind-check.js'
import { FailureLimiter, matchToken, roleAllows } from './auth.js'

const config = (listen: string, tokens = '[]') =>
  parseConfig(`version: 1\nadmin: { listen: "${listen}", tokens: ${tokens} }\n`)
const oneToken = '[{ name: ci, role: viewer, token: "0123456789abcdef0" }]'

describe('assertAdminBindSafe', () => {
  it('allows loopback without tokens', () => {
    for (const listen of ['127.0.0.1:8081', 'localhost:8081', '[::1]:8081', '127.0.0.2:1']) {
      expect(() => assertAdminBindSafe(config(listen))).not.toThrow()
    }
  })
  it('refuses any other address without tokens, with a coded error', () => {
    for (const listen of ['0.0.0.0:8081', '[::]:8081', '10.0.0.5:8081', 'admin.example.com:8081']) {
      expect(() => assertAdminBindSafe(config(listen))).toThrowError(
        expect.objectContaining({ code: 'TANDEM_ERR_ADMIN_UNSAFE_BIND' }),
      )
    }
  })
  it('allows any address once a token is configured', () => {
    expect(() => assertAdminBindSafe(config('0.0.0.0:8081', oneToken))).not.toThrow()
  })
  it('parses hosts', () => {
    expect(listenHost('[::1]:80')).toBe('::1')
    expect(listenHost('127.0.0.1:80')).toBe('127.0.0.1')
    expect(isLoopbackHost('::ffff:127.0.0.1')).toBe(true)
    expect(isLoopbackHost('128.0.0.1')).toBe(false)
  })
})

describe('tokens and roles', () => {
  it('matches only the exact token', () => {
    const c = config('127.0.0.1:1', oneToken)
    expect(matchToken(c, '0123456789abcdef0')).toEqual({ name: 'ci', role: 'viewer' })
    expect(matchToken(c, '0123456789abcdef')).toBeUndefined()
    expect(matchToken(c, '')).toBeUndefined()
  })
  it('orders roles viewer < operator < admin', () => {
    expect(roleAllows('admin', 'operator')).toBe(true)
    expect(roleAllows('operator', 'admin')).toBe(false)
    expect(roleAllows('viewer', 'viewer')).toBe(true)
  })
  it('limits failures per IP within the window and forgets them after', () => {
    const limiter = new FailureLimiter({ max: 2, windowMs: 1000 })
    limiter.fail('a', 0)
    limiter.fail('a', 10)
    expect(() => limiter.check('a', 20)).toThrowError(
      expect.objectContaining({ code: 'TANDEM_ERR_ADMIN_RATE_LIMITED' }),
    )
    expect(() => limiter.check('b', 20)).not.toThrow()
    expect(() => limiter.check('a', 1000)).not.toThrow()
  })
})
