// `tandem data diff` and `tandem data reconcile`: verify a database move and replay failed dual-writes.
// Exit 0 equal / all replayed, 1 differences / failed replays, 2 usage or runtime error.
import type { Command } from 'commander'
import cliProgress from 'cli-progress'
import { TandemError } from '../errors.js'
import { dataDiff, summaryOf, type DataDiffResult } from '../data/diff.js'
import { reconcile } from '../data/reconcile.js'
import { openOutput, printJson, type OutputFile } from './output.js'
import { withJsonOption } from './common.js'

interface DiffFlags {
  from: string
  to: string
  table: string
  toTable?: string
  key?: string
  columns?: string
  map?: string
  where?: string
  json?: boolean
  output?: string
  recheck?: string
  recheckPause?: string
  bisectionFactor?: string
  bisectionThreshold?: string
}

const list = (v: string | undefined): string[] | undefined =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')

/** `old=new,old2=new2` -> { old: new, old2: new2 } */
export function parseMap(v: string | undefined): Record<string, string> | undefined {
  if (v === undefined) return undefined
  const out: Record<string, string> = {}
  for (const pair of list(v) ?? []) {
    const [a, b, ...rest] = pair.split('=')
    if (!a || !b || rest.length > 0)
      throw new TandemError('TANDEM_ERR_DATA_OPTION', {
        detail: `--map expects old=new pairs separated by commas, got "${pair}"`,
      })
    out[a.trim()] = b.trim()
  }
  return out
}

function int(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v))
    throw new TandemError('TANDEM_ERR_DATA_OPTION', { detail: `${flag} expects a non-negative integer, got "${v}"` })
  return Number(v)
}

/** A progress bar with ETA on stderr, only when stderr is a terminal. */
function progressBar(): { update: (done: number, total: number) => void; stop: () => void } | undefined {
  if (!process.stderr.isTTY) return undefined
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'data diff [{bar}] {percentage}% | {value}/{total} rows | ETA {eta_formatted}',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  )
  let started = false
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0)
        started = true
      }
      bar.setTotal(total)
      bar.update(done)
    },
    stop: () => started && bar.stop(),
  }
}

/** Differing rows as JSONL, in chunks of about 64 KiB. */
async function writeRows(out: OutputFile, result: DataDiffResult): Promise<void> {
  let chunk = ''
  for (const row of result.rows) {
    chunk += `${JSON.stringify(row)}\n`
    if (chunk.length >= 65_536) {
      await out.write(chunk)
      chunk = ''
    }
  }
  if (chunk !== '') await out.write(chunk)
  await out.commit()
}

async function runDiff(flags: DiffFlags): Promise<void> {
  // Before the diff, which may run for minutes: an unwritable --output fails now, naming the path.
  const out = flags.output ? await openOutput(flags.output) : undefined
  const bar = progressBar()
  let result: DataDiffResult
  try {
    result = await dataDiff({
      from: flags.from,
      to: flags.to,
      table: flags.table,
      toTable: flags.toTable,
      key: list(flags.key),
      columns: list(flags.columns),
      map: parseMap(flags.map),
      where: flags.where,
      recheck: int(flags.recheck, '--recheck'),
      recheckPauseMs: int(flags.recheckPause, '--recheck-pause'),
      bisectionFactor: int(flags.bisectionFactor, '--bisection-factor'),
      bisectionThreshold: int(flags.bisectionThreshold, '--bisection-threshold'),
      onProgress: bar?.update,
    })
  } catch (error) {
    await out?.discard()
    throw error
  } finally {
    bar?.stop()
  }
  if (out) await writeRows(out, result)
  if (flags.json) {
    printJson({ ...summaryOf(result), stats: result.stats })
  } else {
    if (!flags.output) for (const row of result.rows) process.stdout.write(`${JSON.stringify(row)}\n`)
    const s = summaryOf(result)
    process.stderr.write(
      `${s.table}: ${s.rowsFrom} rows in from, ${s.rowsTo} in to; ${s.onlyInFrom} only in from (-), ${s.onlyInTo}` +
        ` only in to (+), ${s.changed} changed (~) in ${s.durationMs} ms\n`,
    )
  }
  if (result.rows.length > 0) process.exitCode = 1
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('verify and reconcile a data store migration')
  withJsonOption(
    data
      .command('diff')
      .description(
        'compare a table across two databases by checksum-and-bisect; rows as JSONL to --output (or stdout without' +
          ' --json)',
      )
      .requiredOption('--from <url>', 'old database: postgres://..., mysql://... or sqlite:PATH')
      .requiredOption('--to <url>', 'new database, same forms')
      .requiredOption('--table <name>', 'table in the old database (schema.table allowed)')
      .option('--to-table <name>', 'table in the new database when renamed')
      .option('--key <columns>', 'key columns, comma-separated (default: primary key)')
      .option('--columns <columns>', 'compared columns, comma-separated (default: all of the old table)')
      .option('--map <pairs>', 'renamed columns: old=new,old2=new2')
      .option('--where <sql>', 'SQL condition applied on both sides')
      .option('--output <file>', 'write differing rows as JSONL { op, key, from, to }')
      .option('--recheck <n>', 're-check differing keys up to n times and report only persistent differences', '0')
      .option('--recheck-pause <ms>', 'pause before each re-check', '500')
      .option('--bisection-factor <n>', 'segments per split', '32')
      .option('--bisection-threshold <n>', 'download rows of segments this small', '16384'),
  ).action(runDiff)

  withJsonOption(
    data
      .command('reconcile')
      .description('replay failed secondary writes from a dualWrite reconciliation log onto the new store')
      .requiredOption('--log <file>', 'reconciliation log (JSONL) written by dualWrite')
      .requiredOption('--to <url>', 'the new store the writes are replayed onto')
      .option('--from <url>', 'the old store: replay the current row read from it instead of the logged one'),
  ).action(async (flags: { log: string; to: string; from?: string; json?: boolean }) => {
    const result = await reconcile(flags)
    if (flags.json) printJson(result)
    else {
      process.stdout.write(
        `${result.applied} applied, ${result.skipped} skipped (not replayable), ${result.failed.length} failed of` +
          ` ${result.entries}\n`,
      )
      for (const f of result.failed) process.stdout.write(`  line ${f.line}: ${f.error}\n`)
    }
    if (result.failed.length > 0) process.exitCode = 1
  })
}
