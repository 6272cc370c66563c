// The rollout and analysis keys of a system in tandem.yaml (SPEC 4, 5): the steps of each strategy, stickiness,
// targeting, and the promote/rollback rules with custom metrics. Part of the definition in schema.ts.
import { z } from 'zod'
import { ARMS } from '../domain/stages.js'
import { durationSchema, httpUrl, issue, thresholdSchema } from './primitives.js'

export type RolloutStep =
  | { readonly kind: 'shadow'; readonly durationMs: number; readonly confirm: boolean }
  | { readonly kind: 'weight'; readonly weight: number; readonly pauseMs: number; readonly confirm: boolean }
  | { readonly kind: 'switch'; readonly pauseMs: number; readonly confirm: boolean }

const stepSchema = z
  .strictObject({
    shadow: durationSchema.optional(),
    weight: z.number().min(0).max(100).optional(),
    switch: z.literal(true).optional().describe('blue-green: send all traffic to the candidate at once'),
    pause: durationSchema.optional(),
    confirm: z.boolean().default(false).describe('wait for an operator `advance` before leaving this step'),
  })
  .transform((step, ctx): RolloutStep => {
    const kinds = [step.shadow !== undefined, step.weight !== undefined, step.switch !== undefined].filter(Boolean)
    if (kinds.length !== 1) {
      issue(ctx, 'TANDEM_ERR_CONFIG_TYPE', {
        detail: 'a step has exactly one of `shadow: DURATION`, `weight: 0-100` or `switch: true`',
      })
      return z.NEVER
    }
    if (step.shadow !== undefined) return { kind: 'shadow', durationMs: step.shadow, confirm: step.confirm }
    if (step.weight !== undefined) {
      return {
        kind: 'weight',
        weight: Math.round(step.weight * 100) / 100,
        pauseMs: step.pause ?? 0,
        confirm: step.confirm,
      }
    }
    return { kind: 'switch', pauseMs: step.pause ?? 0, confirm: step.confirm }
  })

const stickinessSchema = z
  .string()
  .regex(/^(header:[A-Za-z0-9-]+|cookie:[^\s;=]+|ip|random)$/, 'expected header:NAME, cookie:NAME, ip or random')

const targetingRuleSchema = z
  .strictObject({
    header: z.string().optional(),
    cookie: z.string().optional(),
    query: z.string().optional(),
    in: z.array(z.string()).min(1),
    arm: z.enum(ARMS),
  })
  .superRefine((rule, ctx) => {
    const n = [rule.header, rule.cookie, rule.query].filter((v) => v !== undefined).length
    if (n !== 1)
      issue(ctx, 'TANDEM_ERR_CONFIG_TYPE', {
        detail: 'a targeting rule matches exactly one of header, cookie or query',
      })
  })

const DEFAULT_STEPS = [
  { shadow: '10m' },
  { weight: 5, pause: '5m' },
  { weight: 25, pause: '10m' },
  { weight: 50, pause: '10m' },
  { weight: 100 },
]

export const rolloutSchema = z.strictObject({
  strategy: z.enum(['canary', 'blue-green', 'direct']).default('canary'),
  stickiness: stickinessSchema.default('header:x-user-id'),
  steps: z.array(stepSchema).min(1).optional().describe('default: depends on the strategy'),
  targeting: z.array(targetingRuleSchema).default([]),
  fallbackToLegacy: z.boolean().default(true),
})

/** SPEC 5 custom metrics: a PromQL query run once per arm, judged like the built-in rules. */
const customMetricSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'a metric name starts with a letter and uses A-Z, a-z, 0-9, _ and -'),
    prometheus: z.strictObject({
      url: httpUrl.describe('the Prometheus server, e.g. http://prometheus:9090; credentials in it are never printed'),
      query: z.string().min(1).describe('PromQL, instant query; {{system}}, {{arm}} and {{interval}} are substituted'),
      timeout: durationSchema.prefault('5s'),
    }),
    rollback: thresholdSchema
      .optional()
      .describe('fires when the candidate\'s value meets it; "> 2x" is relative to legacy\'s'),
    promote: thresholdSchema.optional().describe('must hold to promote'),
  })
  .superRefine((m, ctx) => {
    if (!m.rollback && !m.promote)
      issue(ctx, 'TANDEM_ERR_CONFIG_TYPE', {
        detail: `metric "${m.name}" needs a \`rollback\` or a \`promote\` threshold`,
      })
  })

export const analysisSchema = z.strictObject({
  interval: durationSchema.prefault('10s'),
  minSamples: z.number().int().min(1).default(50),
  promote: z
    .strictObject({
      matchRate: thresholdSchema.prefault('>= 0.8'),
      throughputChange: thresholdSchema.prefault('>= -0.05'),
      latencyChange: thresholdSchema.prefault('<= 0.10'),
      maxLag: durationSchema
        .optional()
        .describe('datastore/events systems: promote only while verified-through is this recent (default 1m)'),
    })
    .prefault({}),
  rollback: z
    .strictObject({
      matchRate: thresholdSchema.prefault('< 0.7'),
      errorRate: thresholdSchema.prefault('> 0.05'),
      latencyP95: thresholdSchema.prefault('> 2x'),
      throughput: thresholdSchema.prefault('< 0.5x'),
      healthFailures: thresholdSchema.prefault('> 3'),
      dataMismatches: thresholdSchema
        .optional()
        .describe('datastore systems: differing rows in a verified window (default "> 0")'),
      missingEvents: thresholdSchema.optional().describe('events systems: ids missing on the new side (default "> 0")'),
      dualWriteFailures: thresholdSchema
        .optional()
        .describe('datastore/events systems: failed secondary writes (default "> 0")'),
    })
    .prefault({}),
  consecutiveFailures: z.number().int().min(1).default(1),
  judge: z.enum(['threshold', 'mann-whitney']).default('threshold'),
  latencyFloor: durationSchema
    .prefault('5ms')
    .describe(
      'relative latency rules (latencyP95 "> 2x", promote latencyChange) are not judged while both arms\' p95 are ' +
        'below it',
    ),
  mannWhitney: z
    .strictObject({
      confidence: z.number().gt(0).lt(1).default(0.98),
      allowedIncrease: z.number().min(0).default(1.0),
      pass: z.number().min(0).max(100).default(95),
      marginal: z.number().min(0).max(100).default(75),
      critical: z.array(z.string()).default([]),
    })
    .prefault({}),
  dryRun: z.array(z.string()).default([]),
  metrics: z.array(customMetricSchema).default([]),
})

/** The steps of a strategy when `rollout.steps` is not given. */
export function defaultSteps(strategy: 'canary' | 'blue-green' | 'direct'): RolloutStep[] {
  const steps =
    strategy === 'canary'
      ? DEFAULT_STEPS
      : strategy === 'blue-green'
        ? [{ shadow: '10m' }, { switch: true, pause: '10m' }]
        : [{ weight: 100 }]
  return z.array(stepSchema).parse(steps)
}
