// `tandem events verify|bridge|map-position`: the event stream migration verbs (SPEC 9).
import type { Command } from 'commander'
import { parseDuration } from '../config/units.js'
import { TandemError } from '../errors.js'
import { bridge } from '../events/bridge.js'
import { mapGroupPosition, type MappedGroup } from '../events/map-group.js'
import { mapPosition } from '../events/map-position.js'
import { parseStreamUrl } from '../events/stream-url.js'
import { verifyStreams, type VerifyReport } from '../events/verify.js'
import { withJsonOption } from './common.js'
import { printJson } from './output.js'

export function registerEventsCommands(program: Command): void {
  const events = program.command('events').description('event stream migration: verify, bridge, map-position')

  withJsonOption(events.command('verify'))
    .description('prove the new stream holds every message of the old one; exit 0 equal, 1 differences, 2 error')
    .requiredOption('--from <url>', 'old stream URL (see docs/events.md)')
    .requiredOption('--to <url>', 'new stream URL')
    .requiredOption('--id <path>', 'message id: /json/pointer, $.json.path, header:NAME or message-id')
    .option('--time <path>', "the event's own timestamp in the payload (same forms as --id)")
    .option('--since <time>', 'window start: ISO time, epoch ms, or a duration ago (1h)')
    .option('--until <time>', 'window end (exclusive), same forms')
    .option('--bucket <duration>', 'bucket width', '1m')
    .option('--tolerance <duration>', 'clock tolerance between the two sides', '5s')
    .option('--max-ids <n>', 'most ids one drill-down pass holds in memory', '200000')
    .action(
      async (o: {
        from: string
        to: string
        id: string
        time?: string
        since?: string
        until?: string
        bucket: string
        tolerance: string
        maxIds: string
        json?: boolean
      }) => {
        const report = await verifyStreams({
          from: o.from,
          to: o.to,
          id: o.id,
          ...(o.time !== undefined ? { time: o.time } : {}),
          ...(o.since !== undefined ? { since: parseTime(o.since, '--since') } : {}),
          ...(o.until !== undefined ? { until: parseTime(o.until, '--until') } : {}),
          bucketMs: duration(o.bucket, '--bucket'),
          toleranceMs: duration(o.tolerance, '--tolerance'),
          maxIds: positiveInt(o.maxIds, '--max-ids'),
        })
        if (o.json) printJson(report)
        else printVerify(report)
        process.exitCode = report.ok ? 0 : 1
      },
    )

  withJsonOption(events.command('bridge'))
    .description('copy the old stream into the new one keeping ids; resumes from --checkpoint after a restart')
    .requiredOption('--from <url>', 'old stream URL')
    .requiredOption('--to <url>', 'new stream URL')
    .option('--id <path>', 'where the id is in old messages (default: the broker message id)')
    .option('--checkpoint <file>', 'checkpoint file, written after each acknowledged batch')
    .option('--until-idle', 'stop once caught up instead of following until SIGINT')
    .option('--batch <n>', 'messages per batch', '500')
    .action(
      async (o: {
        from: string
        to: string
        id?: string
        checkpoint?: string
        untilIdle?: boolean
        batch: string
        json?: boolean
      }) => {
        const abort = new AbortController()
        const stop = (): void => abort.abort()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        try {
          const result = await bridge({
            from: o.from,
            to: o.to,
            ...(o.id !== undefined ? { id: o.id } : {}),
            ...(o.checkpoint !== undefined ? { checkpoint: o.checkpoint } : {}),
            untilIdle: o.untilIdle === true,
            signal: abort.signal,
            batch: positiveInt(o.batch, '--batch'),
            onBatch: o.json ? undefined : (p) => process.stderr.write(`copied ${p.copied} (position ${p.position})\n`),
          })
          if (o.json) printJson(result)
          else
            process.stdout.write(
              `copied ${result.copied} message(s); last position` +
                ` ${result.position ?? 'none'}${result.resumedFrom ? ` (resumed after ${result.resumedFrom})` : ''}\n`,
            )
        } finally {
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
        }
      },
    )

  withJsonOption(events.command('map-position'))
    .description('where a consumer of the old stream resumes on the new one without skipping anything')
    .requiredOption('--from <url>', 'old stream URL')
    .requiredOption('--to <url>', 'new stream URL')
    .option('--position <p>', "the consumer's last processed position on the old stream (NATS, RabbitMQ, Redis)")
    .option(
      '--group <name>',
      'Kafka: the consumer group whose committed offsets are mapped (default: ?group= of --from)',
    )
    .option('--commit', 'Kafka: commit the mapped offsets for the group on the new cluster')
    .option('--id <path>', 'message id (default: message-id)')
    .option('--time <path>', "the event's own timestamp in the payload")
    .option('--tolerance <duration>', 'clock tolerance between the two sides', '5s')
    .action(
      async (o: {
        from: string
        to: string
        position?: string
        group?: string
        commit?: boolean
        id?: string
        time?: string
        tolerance: string
        json?: boolean
      }) => {
        const common = {
          from: o.from,
          to: o.to,
          ...(o.id !== undefined ? { id: o.id } : {}),
          ...(o.time !== undefined ? { time: o.time } : {}),
          toleranceMs: duration(o.tolerance, '--tolerance'),
        }
        if (parseStreamUrl(o.from).kind === 'kafka' || o.group !== undefined || o.commit === true) {
          if (o.position !== undefined)
            throw new TandemError('TANDEM_ERR_USAGE', {
              detail: 'Kafka positions are per partition: pass --group G (its committed offsets) instead of --position',
            })
          const mapped = await mapGroupPosition({
            ...common,
            ...(o.group !== undefined ? { group: o.group } : {}),
            commit: o.commit === true,
          })
          if (o.json) printJson(mapped)
          else printGroup(mapped)
          return
        }
        if (o.position === undefined)
          throw new TandemError('TANDEM_ERR_USAGE', {
            detail: 'map-position needs --position P (or --group G for Kafka)',
          })
        const mapped = await mapPosition({ ...common, position: o.position })
        if (o.json) printJson(mapped)
        else if (mapped.newPosition !== null)
          process.stdout.write(`resume the new stream at ${mapped.newPosition} (inclusive)\n`)
        else
          process.stdout.write(
            `nothing after ${mapped.oldPosition} on the new stream yet: resume after` +
              ` ${mapped.resumeAfter ?? 'its start'}\n`,
          )
      },
    )
}

function printGroup(m: MappedGroup): void {
  const w = (s: string): void => void process.stdout.write(`${s}\n`)
  w(
    `group ${m.group}: ${m.unconsumed} unconsumed message(s) on the old topic; ${m.redeliveries} already consumed` +
      ` will be delivered again`,
  )
  for (const s of m.source)
    w(`  old partition ${s.partition}: committed ${s.committed ?? 'none'} of ${s.end} (${s.unconsumed} unconsumed)`)
  for (const t of m.target)
    w(
      `  new partition ${t.partition}: ${m.committed ? 'committed' : 'commit'} ${t.offset} of ${t.end}` +
        ` (${t.redeliveries} redelivered)`,
    )
  if (!m.committed) w('nothing committed: pass --commit to commit these offsets for the group on the new cluster')
}

function printVerify(r: VerifyReport): void {
  const w = (s: string): void => void process.stdout.write(`${s}\n`)
  w(
    `${r.ok ? 'no loss' : 'DIFFERENCES'}: old ${r.counts.old} message(s), new ${r.counts.new}; ${r.differingBuckets}` +
      ` of ${r.buckets} bucket(s) differ`,
  )
  if (r.missing.length > 0) w(`missing (in old, not in new): ${r.missing.join(', ')}`)
  if (r.extra.length > 0) w(`extra (in new, not in old): ${r.extra.join(', ')}`)
  for (const d of r.duplicates) w(`duplicate ${d.id}: old x${d.old}, new x${d.new}`)
}

function duration(text: string, option: string): number {
  const ms = parseDuration(text)
  if (ms === undefined || ms < 0)
    throw new TandemError('TANDEM_ERR_USAGE', {
      detail: `${option} expects a duration such as 500ms, 10s or 1m, got "${text}"`,
    })
  return ms
}

function positiveInt(text: string, option: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1)
    throw new TandemError('TANDEM_ERR_USAGE', { detail: `${option} expects a positive integer, got "${text}"` })
  return n
}

/** ISO-8601, epoch milliseconds, or a duration meaning that long ago. */
export function parseTime(text: string, option: string): number {
  if (/^\d{12,}$/.test(text)) return Number(text)
  const ago = parseDuration(text)
  if (ago !== undefined) return Date.now() - ago
  const t = Date.parse(text)
  if (Number.isNaN(t))
    throw new TandemError('TANDEM_ERR_USAGE', {
      detail: `${option} expects an ISO time, epoch ms or a duration ago, got "${text}"`,
    })
  return t
}
