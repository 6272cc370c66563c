// The `datastore:` and `events:` blocks of a system (SPEC 13): what a data or event move verifies each
// analysis interval, and the check that each kind of system carries only the keys that apply to it.
import { z } from 'zod'
import { durationSchema, issue } from './primitives.js'

const dataUrl = z
  .string()
  .regex(
    /^(postgres(ql)?|mysql|mariadb):\/\/\S+$|^sqlite:\S+$/,
    'expected a postgres://, mysql://, mariadb:// or sqlite:PATH URL',
  )

const tableSchema = z.strictObject({
  name: z.string().min(1).describe('table on both sides (schema.table accepted)'),
  key: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .transform((k) => (typeof k === 'string' ? [k] : k))
    .describe('key column(s) identifying a row'),
  updatedAt: z.string().min(1).describe('timestamp column every write sets: rows whose updatedAt moved are verified'),
  columns: z.array(z.string()).optional().describe('compared columns; default: every column of the from table'),
  where: z.string().optional().describe('SQL condition applied verbatim on both sides'),
})

export const datastoreSchema = z.strictObject({
  from: dataUrl.describe('the old database, authoritative until promotion'),
  to: dataUrl.describe('the new database'),
  tables: z.array(tableSchema).min(1),
  lag: durationSchema.prefault('5s').describe('writes younger than this are not judged yet (in-flight dual writes)'),
  fullEvery: durationSchema
    .prefault('1h')
    .describe('a full checksum-and-bisect diff this often, for rows changed without updatedAt'),
  reconcileLog: z
    .string()
    .optional()
    .describe("the dual writer's reconciliation log: each new line is a dual-write failure"),
  shadowReadLog: z.string().optional().describe("shadowRead's mismatch log: each new line is a data mismatch"),
})

export const eventsSchema = z.strictObject({
  from: z.string().min(1).describe('the old stream URL, authoritative until promotion'),
  to: z.string().min(1).describe('the new stream URL'),
  id: z.string().min(1).describe('where the message id is: /pointer, $.path, header:NAME or message-id'),
  time: z.string().optional().describe("where the event's own time is; default: carried source time, else broker time"),
  lag: durationSchema.prefault('5s').describe('events younger than this are not judged yet (copy delay, clock skew)'),
  bucket: durationSchema.prefault('10s').describe('verification bucket width'),
  replayLog: z.string().optional().describe("dualPublish's replay log: each new line is a dual-write failure"),
})

/** The move rollback triggers and promote bound, and the kinds they apply to. */
export const MOVE_TRIGGERS = {
  dataMismatches: 'datastore',
  missingEvents: 'events',
  dualWriteFailures: 'both',
} as const

interface KindView {
  readonly kind: string
  readonly legacy?: unknown
  readonly candidate?: unknown
  readonly routes: readonly unknown[]
  readonly datastore?: unknown
  readonly events?: unknown
  readonly analysis: { readonly rollback: Record<string, unknown>; readonly promote: Record<string, unknown> }
}

/**
 * Coded errors for keys of another kind: each says which keys the system's kind takes. A datastore or
 * events system without its block is allowed (a checklist-only move, as before): it is not verified.
 */
export function checkKindKeys(system: KindView, ctx: z.RefinementCtx): void {
  const takes: Record<string, string> = {
    http: '`legacy`, `candidate` and `routes`',
    datastore: '`datastore: { from, to, tables: [{ name, key, updatedAt }] }`',
    events: '`events: { from, to, id }`',
    code:
      'rollout, analysis, checklist, hooks, wave, dependsOn, category and priority (it is a flag served to the ' +
      'application)',
  }
  const wrong = (key: string, appliesTo: string): void =>
    issue(ctx, 'TANDEM_ERR_CONFIG_KIND', { key, kind: system.kind, appliesTo, takes: takes[system.kind] ?? '' }, [key])
  if (system.kind !== 'http') {
    if (system.legacy !== undefined) wrong('legacy', 'http systems')
    if (system.candidate !== undefined) wrong('candidate', 'http systems')
    if (system.routes.length > 0) wrong('routes', 'http systems')
  }
  if (system.kind !== 'datastore' && system.datastore !== undefined) wrong('datastore', 'datastore systems')
  if (system.kind !== 'events' && system.events !== undefined) wrong('events', 'events systems')
  for (const [key, kinds] of Object.entries(MOVE_TRIGGERS)) {
    const applies = kinds === 'both' ? system.kind !== 'http' : system.kind === kinds
    if (!applies && system.analysis.rollback[key] !== undefined) {
      const to = kinds === 'both' ? 'datastore and events systems' : `${kinds} systems`
      issue(
        ctx,
        'TANDEM_ERR_CONFIG_KIND',
        { key: `analysis.rollback.${key}`, kind: system.kind, appliesTo: to, takes: takes[system.kind] ?? '' },
        ['analysis', 'rollback', key],
      )
    }
  }
  if (system.kind === 'http' && system.analysis.promote.maxLag !== undefined) {
    issue(
      ctx,
      'TANDEM_ERR_CONFIG_KIND',
      { key: 'analysis.promote.maxLag', kind: 'http', appliesTo: 'datastore and events systems', takes: takes.http },
      ['analysis', 'promote', 'maxLag'],
    )
  }
}
