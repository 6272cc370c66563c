// dualWrite, shadowRead and dualPublish following a system's stage through its flag (SPEC 12): the old
// side is the source of truth until promoted, reads move to the new store by key and weight in canary,
// the old side stops when completed, and a rollback makes it authoritative again.
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { dualPublish, dualWrite, openStream, shadowRead } from '../../src/index.js'
import { bucket } from '../../src/gateway/assign-arm.js'
import type { FlagFollower } from '../../src/flags/follow.js'
import { movePlan } from '../../src/flags/move.js'
import { eventually } from '../support/eventually.js'
import { FLAGS, act, codeSystem, flagInstance } from './support.js'

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

it('plans each stage: old authoritative until promoted, the old side stopped when completed', () => {
  expect(movePlan('pending')).toEqual({ authority: 'old', writeOld: true, writeNew: false })
  for (const stage of ['shadow', 'canary', 'rolled-back', undefined] as const)
    expect(movePlan(stage)).toEqual({ authority: 'old', writeOld: true, writeNew: true })
  expect(movePlan('promoted')).toEqual({ authority: 'new', writeOld: true, writeNew: true })
  expect(movePlan('completed')).toEqual({ authority: 'new', writeOld: false, writeNew: true })
})

it('walks a store and a broker move with the system it follows', async () => {
  const { instance } = await flagInstance(
    [
      codeSystem('orders-move', {
        rollout: { steps: [{ weight: 50, pause: '1h' }, { weight: 100 }] },
        analysis: { interval: '1h' },
      }),
    ],
    cleanup,
  )
  const admin = instance.adminUrl
  const dir = await mkdtemp(join(tmpdir(), 'tandem-move-'))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  const oldStore = new Map<string, string>()
  const newStore = new Map<string, string>()
  const follow = { system: 'orders-move', admin, token: FLAGS, refreshMs: 50 }
  const write = dualWrite(
    async (k: string, v: string) => void oldStore.set(k, v),
    async (k: string, v: string) => void newStore.set(k, v),
    { ...follow, log: join(dir, 'reconcile.jsonl') },
  )
  cleanup.push(async () => write.close())
  const read = shadowRead(
    async (k: string) => `old:${oldStore.get(k)}`,
    async (k: string) => `new:${newStore.get(k)}`,
    { flag: write.flag!, key: (k) => k },
  )
  const stream = (name: string) =>
    openStream(`redis://127.0.0.1:6379/0?stream=tandem-move-${name}-${randomUUID()}`, { create: true })
  const [oldBus, newBus] = await Promise.all([stream('old'), stream('new')])
  cleanup.push(
    () => oldBus.close(),
    () => newBus.close(),
  )
  const publish = dualPublish(oldBus, newBus, { flag: write.flag! })
  const flag: FlagFollower = write.flag!
  await flag.ready()
  const stageIs = (stage: string) => eventually(async () => (await flag.refresh(), flag.stage === stage))

  // pending: the old side only.
  await write('a', '1')
  expect([oldStore.get('a'), newStore.has('a')]).toEqual(['1', false])
  expect(await publish.publish({ id: 'e1', data: 'x' })).toMatchObject({ old: 'ok', new: 'skipped' })

  // canary 50 %: both written, old first; reads of a key come from the new store when its bucket says so.
  await act(admin, 'orders-move', 'start')
  await stageIs('canary')
  const keys = Array.from({ length: 200 }, (_, i) => `k${i}`)
  for (const k of keys) await write(k, 'v')
  expect(keys.every((k) => oldStore.get(k) === 'v' && newStore.get(k) === 'v')).toBe(true)
  for (const k of keys) expect(await read(k)).toBe(bucket('orders-move', k) < 5000 ? 'new:v' : 'old:v')
  expect(await publish.publish({ id: 'e2', data: 'x' })).toMatchObject({ old: 'ok', new: 'ok' })

  // promoted: the new store is the source of truth, the old one still written.
  await act(admin, 'orders-move', 'promote')
  await stageIs('promoted')
  await write('p', '2')
  expect([oldStore.get('p'), newStore.get('p')]).toEqual(['2', '2'])
  expect(await read('p')).toBe('new:2')

  // rolled back: the old side is authoritative again for every key.
  await act(admin, 'orders-move', 'rollback')
  await stageIs('rolled-back')
  for (const k of keys) expect(await read(k)).toBe('old:v')

  // completed (after a retry and a promotion): the old side stops.
  await act(admin, 'orders-move', 'retry')
  await act(admin, 'orders-move', 'promote')
  await act(admin, 'orders-move', 'finalize')
  await stageIs('completed')
  await write('c', '3')
  expect([oldStore.has('c'), newStore.get('c')]).toEqual([false, '3'])
  expect(await read('c')).toBe('new:3')
  expect(await publish.publish({ id: 'e3', data: 'x' })).toMatchObject({ old: 'skipped', new: 'ok' })
  await read.flush()
}, 60_000)
