// Builds SQLite store files in the states the store must refuse: promoted state checkpointed into the
// main file (so no WAL hides the damage), then bytes overwritten in place.
import { closeSync, openSync, writeSync } from 'node:fs'
import { sql } from 'kysely'
import { openStore } from '../../src/store/open.js'
import { recordDecision } from '../../src/store/system-state.js'

/** A store with a promoted system and enough decisions to span many pages, checkpointed into the file. */
export async function promotedStore(file: string): Promise<void> {
  const store = await openStore(`sqlite:${file}`)
  let version = 0
  for (let i = 0; i < 200; i++) {
    version = (
      await recordDecision(
        store,
        'ledger',
        version,
        { stage: i === 199 ? 'promoted' : 'canary', weight: i % 100 },
        { action: 'advance', actor: 'test', reason: `step ${i} ${'x'.repeat(200)}` },
      )
    ).state.version
  }
  await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(store.db)
  await store.close()
}

/** Overwrite `length` bytes from `offset` with junk, as a bad disk or a stray write would. */
export function damage(file: string, offset: number, length: number): void {
  const fd = openSync(file, 'r+')
  writeSync(fd, Buffer.alloc(length, 0x5a), 0, length, offset)
  closeSync(fd)
}
