// Verified-through watermarks of data and event moves (SPEC 13): per system, the time up to which both
// sides are proven equal, when the last full diff ran, and how far the failure logs have been counted.
import type { Store } from './open.js'

export interface MoveWatermark {
  readonly system: string
  readonly runStartedAt: number
  readonly verifiedThrough: number
  readonly fullAt: number
  /** Byte offsets already counted, per log file. */
  readonly cursors: Readonly<Record<string, number>>
  readonly updatedAt: number
}

export async function getWatermark(store: Store, system: string): Promise<MoveWatermark | undefined> {
  const row = await store.db.selectFrom('move_watermarks').selectAll().where('system', '=', system).executeTakeFirst()
  if (row === undefined) return undefined
  return {
    system,
    runStartedAt: Number(row.run_started_at),
    verifiedThrough: Number(row.verified_through),
    fullAt: Number(row.full_at),
    cursors: JSON.parse(row.cursors) as Record<string, number>,
    updatedAt: Number(row.updated_at),
  }
}

/** Every stored watermark, for status pages and reports. */
export async function listWatermarks(store: Store): Promise<MoveWatermark[]> {
  const rows = await store.db.selectFrom('move_watermarks').select('system').execute()
  const out: MoveWatermark[] = []
  for (const r of rows) {
    const w = await getWatermark(store, r.system)
    if (w !== undefined) out.push(w)
  }
  return out
}

export async function saveWatermark(store: Store, w: MoveWatermark): Promise<void> {
  const values = {
    run_started_at: w.runStartedAt,
    verified_through: w.verifiedThrough,
    full_at: w.fullAt,
    cursors: JSON.stringify(w.cursors),
    updated_at: w.updatedAt,
  }
  await store.db
    .insertInto('move_watermarks')
    .values({ system: w.system, ...values })
    .onConflict((oc) => oc.column('system').doUpdateSet(values))
    .execute()
}
