// The checklist (pre- and post-migration) and hooks parts of tandem.yaml, split from schema.ts to keep
// each file to one concept; schema.ts composes them into a system.
import { z } from 'zod'
import { durationSchema, httpUrl, issue } from './primitives.js'

export const checkSchema = z.preprocess(
  (v) => (v === true ? {} : v),
  z.strictObject({
    path: z.string().optional().describe('backup: a path that must exist'),
    file: z.string().optional().describe('rollbackPlan: a file that must exist and be non-empty'),
    command: z.string().optional().describe('a shell command that must exit 0'),
    http: httpUrl.optional().describe('an URL that must answer 2xx'),
    webhook: httpUrl.optional().describe('notify: a webhook that must accept a POST'),
    timeout: durationSchema.prefault('60s'),
  }),
)

/** The checks of one list; the pre-migration list and `post` have the same kinds. */
const VERIFIED_WITHIN = durationSchema
  .optional()
  .describe("datastore/events systems: pass only while the system's verified-through time is at most this old")

/** A data/events check runs a diff (from, to and table or id), requires a recent watermark, or both. */
function needsDiffOrWatermark(
  ctx: z.RefinementCtx,
  within: number | undefined,
  diff: Record<string, string | undefined>,
): void {
  const missing = Object.entries(diff)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k)
  if (missing.length === 0 || (within !== undefined && missing.length === Object.keys(diff).length)) return
  const keys = Object.keys(diff)
    .map((k) => `\`${k}\``)
    .join(', ')
  issue(ctx, 'TANDEM_ERR_CONFIG_REQUIRED', {
    detail: `${keys} (to run the verification) or \`verifiedWithin: DURATION\` alone; missing ${missing.join(', ')}`,
  })
}

const checkListShape = {
  backup: checkSchema.optional(),
  tests: checkSchema.optional(),
  dependencies: checkSchema.optional(),
  rollbackPlan: checkSchema.optional(),
  monitoring: checkSchema.optional(),
  notify: checkSchema.optional(),
  custom: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        command: z.string().optional(),
        http: httpUrl.optional(),
        timeout: durationSchema.prefault('60s'),
      }),
    )
    .default([]),
  dataDiff: z
    .strictObject({
      from: z.string().optional(),
      to: z.string().optional(),
      table: z.string().optional(),
      toTable: z.string().optional(),
      key: z.array(z.string()).optional(),
      columns: z.array(z.string()).optional(),
      where: z.string().optional(),
      verifiedWithin: VERIFIED_WITHIN,
    })
    .superRefine((c, ctx) => needsDiffOrWatermark(ctx, c.verifiedWithin, { from: c.from, to: c.to, table: c.table }))
    .optional()
    .describe('datastore systems: a `tandem data diff` that must find no difference'),
  eventsVerify: z
    .strictObject({
      from: z.string().optional(),
      to: z.string().optional(),
      id: z.string().optional(),
      since: z.string().optional(),
      until: z.string().optional(),
      verifiedWithin: VERIFIED_WITHIN,
    })
    .superRefine((c, ctx) => needsDiffOrWatermark(ctx, c.verifiedWithin, { from: c.from, to: c.to, id: c.id }))
    .optional()
    .describe('events systems: a `tandem events verify` that must find no loss'),
}

export const checklistSchema = z.strictObject({
  ...checkListShape,
  post: z
    .strictObject(checkListShape)
    .optional()
    .describe(
      'the post-migration checklist (decommission command, docs ...): must pass before `tandem finalize` (or ' +
        '--force, audited)',
    ),
})

const hookSchema = z
  .strictObject({
    webhook: httpUrl.optional(),
    command: z.string().optional(),
    headers: z.record(z.string(), z.string()).default({}),
    timeout: durationSchema.prefault('10s'),
  })
  .superRefine((hook, ctx) => {
    if ((hook.webhook === undefined) === (hook.command === undefined)) {
      issue(ctx, 'TANDEM_ERR_CONFIG_TYPE', { detail: 'a hook has exactly one of `webhook: URL` or `command: SHELL`' })
    }
  })
const hookListSchema = z.preprocess((v) => (v !== undefined && !Array.isArray(v) ? [v] : v), z.array(hookSchema))

export const hooksSchema = z.strictObject({
  confirmRollout: hookListSchema.optional(),
  preRollout: hookListSchema.optional(),
  step: hookListSchema.optional(),
  confirmPromotion: hookListSchema.optional(),
  promoted: hookListSchema.optional(),
  rollback: hookListSchema.optional(),
  emergency: hookListSchema.optional().describe('a rollback whose verification failed: legacy is not healthy either'),
  event: hookListSchema.optional(),
})
