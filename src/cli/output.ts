// How CLI commands print: JSON when asked (or when stdout is not a terminal and the command says so),
// human text otherwise; errors always carry their TANDEM_ERR_* code.
import { constants } from 'node:fs'
import { access, open, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { isTandemError, TandemError } from '../errors.js'
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
  const internal = new TandemError('TANDEM_ERR_INTERNAL', {
    detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
  })
  if (json) process.stdout.write(`${JSON.stringify({ error: internal.toJSON() }, null, 2)}\n`)
  else process.stderr.write(`error ${internal.code}: ${internal.message}\n`)
  return internal.exitCode
}

function isConfigIssue(v: unknown): v is ConfigIssue {
  return typeof v === 'object' && v !== null && 'line' in v && 'column' in v && 'code' in v
}

/** A file named by an `--output` option, written beside its final path and moved there when complete. */
export interface OutputFile {
  readonly file: string
  write(text: string): Promise<void>
  /** Close and move into place (replacing an earlier file only now, when the new one is whole). */
  commit(): Promise<void>
  /** Close and remove the partial file; the earlier file, if any, stays. */
  discard(): Promise<void>
}

/**
 * Open `--output FILE` before the work starts, so an unwritable path is a coded error naming it
 * (TANDEM_ERR_OUTPUT_WRITE) instead of a stack trace after a long diff.
 */
export async function openOutput(file: string, option = '--output'): Promise<OutputFile> {
  const fail = (error: unknown): never => {
    throw new TandemError(
      'TANDEM_ERR_OUTPUT_WRITE',
      { option, file, detail: (error as Error).message },
      { cause: error },
    )
  }
  const existing = await stat(file).catch(() => undefined)
  if (existing?.isDirectory()) fail(new Error('it is a directory'))
  if (existing !== undefined) await access(file, constants.W_OK).catch(fail)
  const partial = join(dirname(file), `.${basename(file)}.partial-${process.pid}`)
  const handle = await open(partial, 'w').catch(fail)
  return {
    file,
    write: async (text) => {
      await handle.write(text).catch(fail)
    },
    commit: async () => {
      await handle.close().catch(fail)
      await rename(partial, file).catch(fail)
    },
    discard: async () => {
      await handle.close().catch(() => undefined)
      await unlink(partial).catch(() => undefined)
    },
  }
}
