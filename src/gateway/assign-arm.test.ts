import fc from 'fast-check'
import murmur from 'murmurhash3js'
import { describe, expect, it } from 'vitest'
import type { SystemRouting } from '../domain/routing-table.js'
import { assignArm, bucket, cookieValue, parseStickiness, type ArmPolicy } from './assign-arm.js'

describe('bucket', () => {
  // Unleash normalises with `murmur3.x86.hash32(groupId + ":" + id, 0) % 100 + 1`. Its clients publish
  // these values ("normalized values are the same across node, java, and go clients"):
  // unleash-client-node test/strategy/util-test.js and unleash-client-java StrategyUtilsTest:
  //   normalizedValue('123', 'gr1') === 73, normalizedValue('999', 'groupX') === 25.
  // Our bucket is the same hash modulo 10000 (0.01 % steps); 10000 is a multiple of 100, so
  // bucket % 100 + 1 must give Unleash's values, and the raw murmur3 values must be the same.
  it('matches the Unleash normalisation fixtures', () => {
    expect((bucket('gr1', '123') % 100) + 1).toBe(73)
    expect((bucket('groupX', '999') % 100) + 1).toBe(25)
    expect(bucket('gr1', '123')).toBe(murmur.x86.hash32('gr1:123', 0) % 10000)
    expect(murmur.x86.hash32('gr1:123', 0) % 100).toBe(72)
  })

  it('stays in 0..9999', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (s, k) => {
        const b = bucket(s, k)
        return Number.isInteger(b) && b >= 0 && b < 10000
      }),
    )
  })
})

const policy: ArmPolicy = {
  system: 'api',
  strategy: 'canary',
  stickiness: parseStickiness('header:x-user-id'),
  targeting: [],
}
const routing = (r: Partial<SystemRouting>): SystemRouting => ({
  stage: 'canary',
  weight: 0,
  activeArm: 'legacy',
  paused: false,
  ...r,
})
const req = (headers: Record<string, string>, query = '') => ({ headers, query, remoteAddress: '127.0.0.1' })

describe('assignArm', () => {
  it('never moves a user from candidate back to legacy when the weight rises', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.integer({ min: 0, max: 10000 }),
        fc.integer({ min: 0, max: 10000 }),
        (user, a, b) => {
          const [low, high] = a <= b ? [a / 100, b / 100] : [b / 100, a / 100]
          const before = assignArm(policy, routing({ weight: low }), req({ 'x-user-id': user }))
          const after = assignArm(policy, routing({ weight: high }), req({ 'x-user-id': user }))
          return !(before === 'candidate' && after === 'legacy')
        },
      ),
    )
  })

  it('follows the stage: pending and rolled-back serve legacy, promoted and completed the candidate', () => {
    const r = req({ 'x-user-id': 'u' })
    expect(assignArm(policy, routing({ stage: 'pending', weight: 100 }), r)).toBe('legacy')
    expect(assignArm(policy, routing({ stage: 'rolled-back', weight: 100 }), r)).toBe('legacy')
    expect(assignArm(policy, routing({ stage: 'shadow' }), r)).toBe('legacy')
    expect(assignArm(policy, routing({ stage: 'promoted' }), r)).toBe('candidate')
    expect(assignArm(policy, routing({ stage: 'completed' }), r)).toBe('candidate')
    expect(assignArm({ ...policy, strategy: 'blue-green' }, routing({ activeArm: 'candidate' }), r)).toBe('candidate')
  })

  it('applies targeting rules before weights (header, cookie and query)', () => {
    const targeted: ArmPolicy = {
      ...policy,
      targeting: [
        { source: 'header', name: 'x-tenant', values: new Set(['internal']), arm: 'candidate' },
        { source: 'cookie', name: 'beta', values: new Set(['yes']), arm: 'candidate' },
        { source: 'query', name: 'arm', values: new Set(['old']), arm: 'legacy' },
      ],
    }
    expect(assignArm(targeted, routing({ weight: 0 }), req({ 'x-tenant': 'internal' }))).toBe('candidate')
    expect(assignArm(targeted, routing({ weight: 0 }), req({ cookie: 'a=1; beta=yes' }))).toBe('candidate')
    expect(assignArm(targeted, routing({ weight: 100 }), req({}, 'arm=old'))).toBe('legacy')
    expect(assignArm(targeted, routing({ weight: 0 }), req({ 'x-tenant': 'external' }))).toBe('legacy')
  })

  it('uses the cookie or the client address as sticky key when configured', () => {
    const byCookie = { ...policy, stickiness: parseStickiness('cookie:sid') }
    const user = Array.from({ length: 200 }, (_, i) => `s${i}`).find((s) => bucket('api', s) < 5000)!
    expect(assignArm(byCookie, routing({ weight: 50 }), req({ cookie: `sid=${user}` }))).toBe('candidate')
    expect(cookieValue('a=1; sid=abc%20d', 'sid')).toBe('abc d')
    const byIp = { ...policy, stickiness: parseStickiness('ip') }
    const arm = assignArm(byIp, routing({ weight: 50 }), req({}))
    expect(arm).toBe(bucket('api', '127.0.0.1') < 5000 ? 'candidate' : 'legacy')
  })
})
