// Versioned schema migrations, the same on SQLite and PostgreSQL. Add a new entry; never edit one
// that has shipped.
import type { ColumnDefinitionBuilder, Kysely, Migration } from 'kysely'

export type Dialect = 'sqlite' | 'postgres'

/**
 * Migrations keyed by an ordered name. `migrate` in open.ts (not kysely's Migrator) runs the pending ones
 * in name order, each in its own transaction, and records it in tandem_migrations; `down` is never run.
 */
export function migrations(dialect: Dialect): Record<string, Migration> {
  // Auto-increment ids and epoch-millisecond columns differ between the engines.
  const id = dialect === 'sqlite' ? 'integer' : 'bigserial'
  const big = dialect === 'sqlite' ? 'integer' : 'bigint'
  const real = dialect === 'sqlite' ? 'real' : 'double precision'
  const idCol = (c: ColumnDefinitionBuilder) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey())

  return {
    '0001-core': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('system_state')
          .addColumn('system', 'text', (c) => c.primaryKey())
          .addColumn('stage', 'text', (c) => c.notNull())
          .addColumn('weight', real, (c) => c.notNull())
          .addColumn('step_index', 'integer', (c) => c.notNull())
          .addColumn('step_started_at', big)
          .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('active_arm', 'text', (c) => c.notNull().defaultTo('legacy'))
          .addColumn('started_at', big)
          .addColumn('promoted_at', big)
          .addColumn('completed_at', big)
          .addColumn('updated_at', big, (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .execute()

        await db.schema
          .createTable('decisions')
          .addColumn('id', id, idCol)
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('from_stage', 'text', (c) => c.notNull())
          .addColumn('to_stage', 'text', (c) => c.notNull())
          .addColumn('weight', real, (c) => c.notNull())
          .addColumn('step_index', 'integer', (c) => c.notNull())
          .addColumn('evidence', 'text')
          .addColumn('at', big, (c) => c.notNull())
          .addUniqueConstraint('decisions_system_seq', ['system', 'seq'])
          .execute()

        await db.schema
          .createTable('verdicts')
          .addColumn('id', id, idCol)
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('at', big, (c) => c.notNull())
          .addColumn('stage', 'text', (c) => c.notNull())
          .addColumn('step_index', 'integer', (c) => c.notNull())
          .addColumn('weight', real, (c) => c.notNull())
          .addColumn('verdict', 'text', (c) => c.notNull())
          .addColumn('judge', 'text', (c) => c.notNull())
          .addColumn('score', real)
          .addColumn('window_start', big, (c) => c.notNull())
          .addColumn('window_end', big, (c) => c.notNull())
          .addColumn('evidence', 'text', (c) => c.notNull())
          .execute()
        await db.schema.createIndex('verdicts_system_at').on('verdicts').columns(['system', 'at']).execute()

        await db.schema
          .createTable('metric_windows')
          .addColumn('id', id, idCol)
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('route', 'text', (c) => c.notNull())
          .addColumn('arm', 'text', (c) => c.notNull())
          .addColumn('window_start', big, (c) => c.notNull())
          .addColumn('window_end', big, (c) => c.notNull())
          .addColumn('requests', 'integer', (c) => c.notNull())
          .addColumn('errors', 'integer', (c) => c.notNull())
          .addColumn('successes', 'integer', (c) => c.notNull())
          .addColumn('p50_ms', real)
          .addColumn('p95_ms', real)
          .addColumn('p99_ms', real)
          .addColumn('mean_ms', real)
          .execute()
        await db.schema
          .createIndex('metric_windows_system')
          .on('metric_windows')
          .columns(['system', 'window_end'])
          .execute()

        await db.schema
          .createTable('compare_routes')
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('route', 'text', (c) => c.notNull())
          .addColumn('compared', 'integer', (c) => c.notNull())
          .addColumn('matches', 'integer', (c) => c.notNull())
          .addColumn('mismatches', 'integer', (c) => c.notNull())
          .addColumn('noise_only', 'integer', (c) => c.notNull())
          .addColumn('skipped', 'integer', (c) => c.notNull())
          .addColumn('candidate_errors', 'integer', (c) => c.notNull())
          .addColumn('updated_at', big, (c) => c.notNull())
          .addPrimaryKeyConstraint('compare_routes_pk', ['system', 'route'])
          .execute()

        await db.schema
          .createTable('compare_fields')
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('route', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('raw', 'integer', (c) => c.notNull())
          .addColumn('noise', 'integer', (c) => c.notNull())
          .addColumn('total', 'integer', (c) => c.notNull())
          .addColumn('updated_at', big, (c) => c.notNull())
          .addPrimaryKeyConstraint('compare_fields_pk', ['system', 'route', 'path', 'kind'])
          .execute()

        await db.schema
          .createTable('compare_samples')
          .addColumn('id', id, idCol)
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('route', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('at', big, (c) => c.notNull())
          .addColumn('sample', 'text', (c) => c.notNull())
          .execute()
        await db.schema
          .createIndex('compare_samples_field')
          .on('compare_samples')
          .columns(['system', 'route', 'path'])
          .execute()

        await db.schema
          .createTable('compare_windows')
          .addColumn('id', id, idCol)
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('window_start', big, (c) => c.notNull())
          .addColumn('window_end', big, (c) => c.notNull())
          .addColumn('matches', 'integer', (c) => c.notNull())
          .addColumn('mismatches', 'integer', (c) => c.notNull())
          .addColumn('noise_only', 'integer', (c) => c.notNull())
          .addColumn('skipped', 'integer', (c) => c.notNull())
          .addColumn('candidate_errors', 'integer', (c) => c.notNull())
          .execute()
        await db.schema
          .createIndex('compare_windows_system')
          .on('compare_windows')
          .columns(['system', 'window_end'])
          .execute()

        await db.schema
          .createTable('checklist_results')
          .addColumn('id', id, idCol)
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('check', 'text', (c) => c.notNull())
          .addColumn('ok', 'integer', (c) => c.notNull())
          .addColumn('configured', 'integer', (c) => c.notNull())
          .addColumn('output', 'text', (c) => c.notNull())
          .addColumn('at', big, (c) => c.notNull())
          .execute()

        await db.schema
          .createTable('audit')
          .addColumn('id', id, idCol)
          .addColumn('at', big, (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target', 'text')
          .addColumn('params', 'text')
          .addColumn('result', 'text', (c) => c.notNull())
          .addColumn('detail', 'text')
          .execute()
      },
      async down(db: Kysely<unknown>) {
        for (const t of [
          'audit',
          'checklist_results',
          'compare_windows',
          'compare_samples',
          'compare_fields',
          'compare_routes',
          'metric_windows',
          'verdicts',
          'decisions',
          'system_state',
        ]) {
          await db.schema.dropTable(t).ifExists().execute()
        }
      },
    },
    // Why comparisons were skipped (truncated, overloaded, legacy-error ...), per route.
    '0002-compare': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('compare_skips')
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('route', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('count', 'integer', (c) => c.notNull())
          .addColumn('updated_at', big, (c) => c.notNull())
          .addPrimaryKeyConstraint('compare_skips_pk', ['system', 'route', 'reason'])
          .execute()
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('compare_skips').ifExists().execute()
      },
    },
    // The program's halt (SPEC 7, mass failure): one row, shared by every instance on the store.
    '0003-program-state': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('program_state')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('halted', 'integer', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('actor', 'text')
          .addColumn('wave', 'text')
          .addColumn('at', big, (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .execute()
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('program_state').ifExists().execute()
      },
    },
    // The time-bound controller lease (SPEC 11): holder, fencing token and expiry on the database's clock;
    // each controller decision records the lease term it was written under.
    '0004-controller-lease': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('controller_lease')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('token', big, (c) => c.notNull())
          .addColumn('expires_at', big, (c) => c.notNull())
          .addColumn('acquired_at', big, (c) => c.notNull())
          .execute()
        await db.schema.alterTable('decisions').addColumn('lease_token', big).execute()
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable('decisions').dropColumn('lease_token').execute()
        await db.schema.dropTable('controller_lease').ifExists().execute()
      },
    },
    // Every instance's metrics, one row per second x system x route x arm (SPEC 11): counts, the encoded
    // HDR histogram and the comparison counts; read merged across instances, pruned after metrics.retention.
    '0005-metric-seconds': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('metric_seconds')
          .addColumn('instance', 'text', (c) => c.notNull())
          .addColumn('system', 'text', (c) => c.notNull())
          .addColumn('route', 'text', (c) => c.notNull())
          .addColumn('arm', 'text', (c) => c.notNull())
          .addColumn('second', big, (c) => c.notNull())
          .addColumn('requests', 'integer', (c) => c.notNull())
          .addColumn('errors', 'integer', (c) => c.notNull())
          .addColumn('successes', 'integer', (c) => c.notNull())
          .addColumn('histogram', 'text')
          .addColumn('matches', 'integer', (c) => c.notNull())
          .addColumn('mismatches', 'integer', (c) => c.notNull())
          .addColumn('noise_only', 'integer', (c) => c.notNull())
          .addColumn('skipped', 'integer', (c) => c.notNull())
          .addColumn('candidate_errors', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('metric_seconds_pk', ['instance', 'system', 'route', 'arm', 'second'])
          .execute()
        await db.schema
          .createIndex('metric_seconds_system')
          .on('metric_seconds')
          .columns(['system', 'second'])
          .execute()
        await db.schema.createIndex('metric_seconds_second').on('metric_seconds').columns(['second']).execute()
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('metric_seconds').ifExists().execute()
      },
    },
    // Verified-through watermarks of datastore and events systems (SPEC 13), one row per system.
    '0006-move-watermarks': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('move_watermarks')
          .addColumn('system', 'text', (c) => c.primaryKey())
          .addColumn('run_started_at', big, (c) => c.notNull())
          .addColumn('verified_through', big, (c) => c.notNull())
          .addColumn('full_at', big, (c) => c.notNull())
          .addColumn('cursors', 'text', (c) => c.notNull())
          .addColumn('updated_at', big, (c) => c.notNull())
          .execute()
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('move_watermarks').ifExists().execute()
      },
    },
  }
}
