// The registry of every user-facing error: a stable TANDEM_ERR_* code, a message template, the HTTP
// status the admin API answers with and the exit code the CLI ends with. Each says what to do.
// The entries are declared by area in src/errors/ and assembled here into one registry.
import { redactSecrets } from './redact.js'
import { CONFIG_ERRORS } from './errors/config.js'
import { DATA_EVENTS_ERRORS } from './errors/data-events.js'
import { define } from './errors/define.js'
import { GATEWAY_ERRORS } from './errors/gateway.js'
import { ROLLOUT_ERRORS } from './errors/rollout.js'

export type { ErrorDefinition } from './errors/define.js'

export const ERRORS = define({
  ...CONFIG_ERRORS,
  ...GATEWAY_ERRORS,
  ...DATA_EVENTS_ERRORS,
  ...ROLLOUT_ERRORS,
})

export type ErrorCode = keyof typeof ERRORS

/** A user-facing error: stable code, filled message, HTTP status, exit code and optional details. */
export class TandemError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly exitCode: 0 | 1 | 2
  readonly details: unknown

  constructor(
    code: ErrorCode,
    params: Record<string, unknown> = {},
    options: { details?: unknown; cause?: unknown } = {},
  ) {
    super(
      formatMessage(ERRORS[code].message, params),
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.name = 'TandemError'
    this.code = code
    this.status = ERRORS[code].status
    this.exitCode = ERRORS[code].exit
    this.details = options.details
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
}

/**
 * The coded error for a 4xx that a library raised without one of our codes (fastify's body limit,
 * @fastify/static refusing a path): each status gets the code that says what to do, not BAD_REQUEST.
 */
export function clientErrorFor(status: number, detail: string, path: string): TandemError {
  if (status === 413) return new TandemError('TANDEM_ERR_BODY_TOO_LARGE', { detail })
  if (status === 403) return new TandemError('TANDEM_ERR_PATH_FORBIDDEN', { path })
  return new TandemError('TANDEM_ERR_BAD_REQUEST', { detail })
}

/** Fill a template; every value goes through redactSecrets, so no message carries a URL password or token. */
export function formatMessage(template: string, params: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in params ? redactSecrets(String(params[key])) : whole,
  )
}

export function isTandemError(error: unknown): error is TandemError {
  return error instanceof TandemError
}
