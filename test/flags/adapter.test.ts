// adapter() when the instance cannot be reached (SPEC 12): legacy serves, before the first answer and
// after the instance went away, and the observations it cannot send stay bounded.
import { afterEach, expect, it } from 'vitest'
import { adapter } from '../../src/index.js'
import { eventually } from '../support/eventually.js'
import { FLAGS, act, codeSystem, flagInstance } from './support.js'

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

const impl = { legacy: async (id: string) => `legacy:${id}`, candidate: async (id: string) => `candidate:${id}` }

it('serves legacy while nothing answers at the admin URL', async () => {
  const errors: unknown[] = []
  const calls = adapter('checkout', impl, {
    admin: 'http://127.0.0.1:9',
    key: (id) => id,
    refreshMs: 50,
    flushMs: 20,
    onError: (e) => errors.push(e),
  })
  cleanup.push(() => calls.close())
  await calls.ready()
  expect(await calls('u1')).toBe('legacy:u1')
  await eventually(() => errors.length > 1)
  expect(calls.flag.snapshot).toBeUndefined()
})

it('falls back to legacy when the instance goes away, with bounded buffers', async () => {
  const { instance } = await flagInstance(
    [codeSystem('checkout', { rollout: { steps: [{ weight: 100 }] }, analysis: { interval: '1h' } })],
    cleanup,
  )
  await act(instance.adminUrl, 'checkout', 'start')
  const calls = adapter('checkout', impl, {
    admin: instance.adminUrl,
    token: FLAGS,
    key: (id) => id,
    refreshMs: 50,
    onError: () => {},
  })
  cleanup.push(() => calls.close())
  await calls.ready()
  expect(await calls('u1')).toBe('candidate:u1')
  await instance.close()
  await eventually(async () => (await calls('u1')) === 'legacy:u1')
  // Buffered observations are bounded (20 000); what cannot be kept or sent is counted as dropped.
  // Every answer on every try is legacy's (collected, not thrown: eventually retries what throws).
  const wrong: string[] = []
  await eventually(
    async () => {
      for (let i = 0; i < 25_000; i++) {
        const got = await calls(`u${i}`)
        if (got !== `legacy:u${i}`) wrong.push(got)
      }
      return calls.dropped > 0
    },
    { tries: 40, every: 20 },
  )
  expect(wrong).toEqual([])
}, 60_000)
