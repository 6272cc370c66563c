// OFREP evaluation is the gateway's arm choice (SPEC 12): for any key, weight and stage, the flag's value
// is the arm assignArm gives a request carrying that key in its stickiness header and the same attributes.
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import { assignArm, compileTargeting, parseStickiness } from '../gateway/assign-arm.js'
import type { SystemRouting } from '../domain/routing-table.js'
import { FlagEvaluator, type OfrepSuccess } from './evaluate.js'

const config = parseConfig(`version: 1
systems:
  - name: checkout
    kind: code
    rollout:
      stickiness: header:x-user-id
      targeting: [{ header: x-tenant, in: [internal], arm: candidate }, { query: beta, in: ['no'], arm: legacy }]
`)
const system = config.systems[0]!
const policy = {
  system: 'checkout',
  strategy: system.rollout.strategy,
  stickiness: parseStickiness(system.rollout.stickiness),
  targeting: compileTargeting(system.rollout.targeting),
}
const stages = ['pending', 'shadow', 'canary', 'promoted', 'completed', 'rolled-back'] as const

it('gives every key the arm the gateway gives a request with that key', () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 10_000 }),
      fc.constantFrom(...stages),
      fc.constantFrom(undefined, 'internal', 'acme'),
      fc.constantFrom(undefined, 'no', 'yes'),
      (key, w, stage, tenant, beta) => {
        const routing: SystemRouting = { stage, weight: w / 100, activeArm: 'legacy', paused: false }
        const evaluator = new FlagEvaluator(
          () => config,
          () => routing,
        )
        const context = { targetingKey: key, ...(tenant ? { 'X-Tenant': tenant } : {}), ...(beta ? { beta } : {}) }
        const answer = evaluator.evaluate('checkout', { context })
        expect(answer.status).toBe(200)
        const headers = { 'x-user-id': key, ...(tenant ? { 'x-tenant': tenant } : {}) }
        const arm = assignArm(policy, routing, {
          headers,
          query: beta ? `beta=${beta}` : '',
          remoteAddress: undefined,
        })
        const body = answer.body as OfrepSuccess
        expect(body.variant).toBe(arm)
        expect(body.value).toBe(arm === 'candidate')
        expect(JSON.parse(evaluator.evaluateJson('checkout', { context }).body)).toEqual(body)
      },
    ),
    { numRuns: 2000 },
  )
})

it('asks for a targeting key only where a canary split needs one', () => {
  const at = (stage: SystemRouting['stage'], weight: number) =>
    new FlagEvaluator(
      () => config,
      () => ({ stage, weight, activeArm: 'legacy', paused: false }),
    )
  expect(at('canary', 30).evaluate('checkout', { context: {} }).body).toMatchObject({
    errorCode: 'TARGETING_KEY_MISSING',
  })
  expect(at('canary', 30).evaluate('checkout', { context: { 'x-tenant': 'internal' } }).body).toMatchObject({
    value: true,
    reason: 'TARGETING_MATCH',
  })
  expect(at('shadow', 0).evaluate('checkout', {}).body).toMatchObject({ value: false, reason: 'DEFAULT' })
  expect(at('rolled-back', 30).evaluate('checkout', {}).body).toMatchObject({ value: false, reason: 'DISABLED' })
})
