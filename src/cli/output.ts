// How CLI commands print: JSON when asked (or when stdout is not a terminal and the command says so),
// human text otherwise; errors always carry their TANDEM_ERR_* code.
import { isTandemError } from '../errors.js'
import { redactSecrets } from '../redact.js'
import { formatIssue, type ConfigIssue } from '../config/load.js'

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/** Print an error and return the exit code the process should end with. */
export function reportError(error: unknown, json: boolean): number {
  if (isTandemError(error)) {
    if (json) {
      process.stdout.write(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`)
    } else {
      process.stderr.write(`error ${error.code}: ${error.message}\n`)
      if (Array.isArray(error.details)) {
        for (const d of error.details as unknown[]) {
          if (isConfigIssue(d)) process.stderr.write(`  ${formatIssue(d)}\n`)
        }
      }
    }
    return error.exitCode
  }
  // Not a coded error: a driver's or a bug's own text, which may quote a URL with its password.
  const message = redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))
  if (json) process.stdout.write(`${JSON.stringify({ error: { code: 'TANDEM_ERR_INTERNAL', message } }, null, 2)}\n`)
  else process.stderr.write(`error TANDEM_ERR_INTERNAL: ${message}\n`)
  return 2
}

function isConfigIssue(v: unknown): v is ConfigIssue {
  return typeof v === 'object' && v !== null && 'line' in v && 'column' in v && 'code' in v
}
