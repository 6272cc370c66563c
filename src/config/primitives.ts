// The building blocks of tandem.yaml's schema: durations, sizes, rules and URLs, each parsed once with
// a stable error code. schema.ts and its parts (checklist-schema.ts, program-schema.ts) use them.
import { z } from 'zod'
import { ERRORS, formatMessage, type ErrorCode } from '../errors.js'
import { parseDuration, parseSize, parseThreshold, type Threshold } from './units.js'

/** Attach a stable error code, and its message from the registry, to a custom issue for the loader. */
export function issue(
  ctx: z.RefinementCtx,
  code: ErrorCode,
  params: Record<string, unknown>,
  path: PropertyKey[] = [],
): void {
  ctx.addIssue({
    code: 'custom',
    message: formatMessage(ERRORS[code].message, params),
    path,
    params: { tandemCode: code },
  })
}

export const durationSchema = z
  .string()
  .describe('A duration: 500ms, 10s, 5m, 2h, 1d')
  .transform((text, ctx) => {
    const ms = parseDuration(text)
    if (ms === undefined) {
      issue(ctx, 'TANDEM_ERR_CONFIG_DURATION', { value: `"${text}"` })
      return z.NEVER
    }
    return ms
  })

/** A duration that cannot be 0 (0 would switch the timeout off). */
export const positiveDuration = durationSchema.superRefine((ms, ctx) => {
  if (ms <= 0)
    issue(ctx, 'TANDEM_ERR_CONFIG_DURATION', { value: '0 (a timeout of 0 would switch it off: give one above 0)' })
})

export const sizeSchema = z
  .union([z.string(), z.number()])
  .describe('A size: 512KiB, 1MiB, 10MB or a byte count')
  .transform((value, ctx) => {
    const bytes = parseSize(value)
    if (bytes === undefined) {
      issue(ctx, 'TANDEM_ERR_CONFIG_SIZE', { value: `"${value}"` })
      return z.NEVER
    }
    return bytes
  })

/** A rule such as ">= 0.8" or "> 2x"; `off` disables it. */
export const thresholdSchema = z
  .string()
  .describe('A rule: ">= 0.8", "< 0.05", "> 2x" (x = multiple of legacy), or "off"')
  .transform((text, ctx): Threshold | null => {
    if (text.trim() === 'off') return null
    const rule = parseThreshold(text)
    if (rule === undefined) {
      issue(ctx, 'TANDEM_ERR_CONFIG_THRESHOLD', { value: `"${text}"` })
      return z.NEVER
    }
    return rule
  })

export const httpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'expected an http:// or https:// URL')
