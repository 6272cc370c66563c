// OFREP end to end (SPEC 12): the official OpenFeature server SDK with its OFREP provider against a real
// instance: the gateway's buckets for 2 000 keys, targeting, the kill switch via `tandem rollback`,
// adapters following the flag, status listing them, protocol-shaped errors and bounded observation batches.
import { OFREPProvider } from '@openfeature/ofrep-provider'
import { OpenFeature } from '@openfeature/server-sdk'
import { afterEach, expect, it } from 'vitest'
import { adapter } from '../../src/index.js'
import { bucket } from '../../src/gateway/assign-arm.js'
import { MAX_REFRESH_MS } from '../../src/flags/follow.js'
import { tandem } from '../support/cli.js'
import { eventually } from '../support/eventually.js'
import { system } from '../support/config.js'
import { FLAGS, OPERATOR, VIEWER, act, codeSystem, flagInstance, post } from './support.js'

/** The OFREP bulk evaluation answer, as far as these tests read it. */
interface BulkBody {
  flags: Array<{ key: string }>
}

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

const SYSTEMS = [
  codeSystem('checkout', {
    rollout: {
      steps: [{ weight: 30, pause: '1h' }, { weight: 100 }],
      targeting: [{ header: 'x-tenant', in: ['internal'], arm: 'candidate' }],
    },
    analysis: { interval: '1h' },
  }),
  system('web'),
]

it('serves a weight-30 code system to the OpenFeature SDK with the gateway buckets; rollback stops it', async () => {
  const { instance, configFile } = await flagInstance(SYSTEMS, cleanup)
  const admin = instance.adminUrl
  await act(admin, 'checkout', 'start')

  await OpenFeature.setProviderAndWait(
    new OFREPProvider({ baseUrl: admin, headers: [['authorization', `Bearer ${FLAGS}`]] }),
  )
  cleanup.push(() => OpenFeature.close())
  const client = OpenFeature.getClient()
  const keys = Array.from({ length: 2000 }, (_, i) => `user-${i}`)
  const first = new Map<string, boolean>()
  for (const key of keys) {
    const d = await client.getBooleanDetails('checkout', false, { targetingKey: key })
    expect(d.errorCode).toBeUndefined()
    expect(d.reason).toBe('SPLIT')
    expect(d.variant).toBe(d.value ? 'candidate' : 'legacy')
    // Exactly the arm the gateway's bucket function gives this key.
    expect(d.value).toBe(bucket('checkout', key) < 3000)
    first.set(key, d.value)
  }
  const share = [...first.values()].filter(Boolean).length / keys.length
  expect(share).toBeGreaterThanOrEqual(0.27)
  expect(share).toBeLessThanOrEqual(0.33)
  for (const key of keys)
    expect(await client.getBooleanValue('checkout', false, { targetingKey: key })).toBe(first.get(key))

  // Targeting rules match context attributes as they match headers.
  const targeted = await client.getBooleanDetails('checkout', false, { targetingKey: 'user-1', 'x-tenant': 'internal' })
  expect(targeted).toMatchObject({ value: true, reason: 'TARGETING_MATCH', variant: 'candidate' })
  // An HTTP system is a flag too (pending: off for everybody).
  expect(await client.getBooleanDetails('web', true, { targetingKey: 'u' })).toMatchObject({
    value: false,
    reason: 'DISABLED',
    variant: 'legacy',
  })
  expect(await client.getBooleanDetails('nope', false, { targetingKey: 'u' })).toMatchObject({
    value: false,
    errorCode: 'FLAG_NOT_FOUND',
  })

  // adapter(): the same arm per key, cached, refreshed within a second.
  const calls = adapter(
    'checkout',
    { legacy: async (id: string) => `legacy:${id}`, candidate: async (id: string) => `candidate:${id}` },
    { admin, token: FLAGS, key: (id) => id, refreshMs: 100, clientId: 'billing-1' },
  )
  cleanup.push(() => calls.close())
  expect(calls.flag.refreshMs).toBeLessThanOrEqual(MAX_REFRESH_MS)
  await calls.ready()
  for (const key of keys.slice(0, 500))
    expect(await calls(key)).toBe(`${first.get(key) ? 'candidate' : 'legacy'}:${key}`)

  // `tandem status` shows the adapter following the flag and when it last synced.
  const status = await tandem(['status', 'checkout', '--json', '--admin', admin, '--token', VIEWER])
  expect(status.code).toBe(0)
  const detail = JSON.parse(status.stdout) as {
    flagClients: { count: number; clients: Array<{ id: string; lastSyncAt: number }> }
  }
  expect(detail.flagClients.count).toBe(1)
  expect(detail.flagClients.clients[0]).toMatchObject({ id: 'billing-1', lastSyncAt: expect.any(Number) })
  const text = await tandem(['status', 'checkout', '--admin', admin, '--token', VIEWER])
  expect(text.stdout).toMatch(/flag clients: 1 \(billing-1 synced /)
  const list = await tandem(['status', '--admin', admin, '--token', VIEWER])
  expect(list.stdout).toMatch(/^SYSTEM +STAGE +WEIGHT +STEP +CLIENTS +HOLD/)
  expect(list.stdout).toMatch(/\ncheckout +canary +30% +1 +1\n/)

  // Kill switch: after `tandem rollback`, every evaluation and every adapter call is legacy.
  const rollback = await tandem([
    'rollback',
    'checkout',
    '--admin',
    admin,
    '--token',
    OPERATOR,
    '--reason',
    'kill switch',
  ])
  expect(rollback.code).toBe(0)
  await eventually(async () => (await calls('user-1')) === 'legacy:user-1' && calls.flag.stage === 'rolled-back')
  for (const key of keys) {
    const d = await client.getBooleanDetails('checkout', true, { targetingKey: key })
    expect(d).toMatchObject({ value: false, reason: 'DISABLED', variant: 'legacy' })
    expect(await calls(key)).toBe(`legacy:${key}`)
  }
  expect(configFile).toContain('tandem.yaml')
}, 120_000)

it('answers bad input in the protocol shape, caches bulk with ETags and bounds observation batches', async () => {
  const { instance } = await flagInstance(SYSTEMS, cleanup)
  const admin = instance.adminUrl
  await act(admin, 'checkout', 'start')
  const one = `${admin}/ofrep/v1/evaluate/flags`

  expect(await post(`${one}/nope`, { context: { targetingKey: 'u' } }, FLAGS)).toMatchObject({
    status: 404,
    body: { key: 'nope', errorCode: 'FLAG_NOT_FOUND', errorDetails: expect.any(String) },
  })
  expect(await post(`${one}/checkout`, { context: {} }, FLAGS)).toMatchObject({
    status: 400,
    body: { key: 'checkout', errorCode: 'TARGETING_KEY_MISSING' },
  })
  expect(await post(`${one}/checkout`, { context: 5 }, FLAGS)).toMatchObject({
    status: 400,
    body: { key: 'checkout', errorCode: 'INVALID_CONTEXT' },
  })
  expect(await post(`${one}/checkout`, { context: { targetingKey: 7 } }, FLAGS)).toMatchObject({
    status: 400,
    body: { errorCode: 'INVALID_CONTEXT' },
  })
  const wide = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`a${i}`, i]))
  expect(await post(`${one}/checkout`, { context: { targetingKey: 'u', ...wide } }, FLAGS)).toMatchObject({
    status: 400,
    body: { errorCode: 'INVALID_CONTEXT' },
  })
  expect(await post(`${one}/checkout`, '{"context": ', FLAGS)).toMatchObject({
    status: 400,
    body: { key: 'checkout', errorCode: 'PARSE_ERROR' },
  })
  // A viewer reads flags; the flags role reads nothing else.
  expect((await post(`${one}/checkout`, { context: { targetingKey: 'u' } }, VIEWER)).status).toBe(200)
  expect(await post(`${admin}/api/v1/systems/checkout/actions/pause`, {}, FLAGS)).toMatchObject({
    status: 403,
    body: { code: 'TANDEM_ERR_ADMIN_FORBIDDEN' },
  })

  // Bulk: every flag for one context, an ETag, 304 while nothing changed, a new ETag after a change.
  const bulk = await post(one, { context: { targetingKey: 'user-7' } }, FLAGS)
  expect(bulk.status).toBe(200)
  expect((bulk.body as BulkBody).flags.map((f) => f.key).sort()).toEqual(['checkout', 'web'])
  const etag = bulk.headers.etag as string
  expect(etag).toMatch(/^".+"$/)
  expect((await post(one, { context: { targetingKey: 'user-7' } }, FLAGS, { 'if-none-match': etag })).status).toBe(304)
  await act(admin, 'checkout', 'rollback')
  const changed = await post(one, { context: { targetingKey: 'user-7' } }, FLAGS, { 'if-none-match': etag })
  expect(changed.status).toBe(200)
  expect((changed.body as BulkBody).flags.find((f) => f.key === 'checkout')).toMatchObject({
    value: false,
    reason: 'DISABLED',
  })
  expect(await post(one, { context: [] }, FLAGS)).toMatchObject({ status: 400, body: { errorCode: 'INVALID_CONTEXT' } })

  // Observations: coded refusals, nothing recorded from a refused batch, the instance keeps serving.
  const obs = `${admin}/api/v1/systems/checkout/observations`
  const flood = { observations: Array.from({ length: 1001 }, () => ({ arm: 'candidate', ms: 1, error: true })) }
  expect(await post(obs, flood, FLAGS)).toMatchObject({ status: 400, body: { code: 'TANDEM_ERR_BAD_REQUEST' } })
  const huge = {
    observations: [{ arm: 'legacy', ms: 1, error: false }],
    comparisons: [{ legacy: { ms: 1, value: 'x'.repeat(300_000) }, candidate: { ms: 1 } }],
  }
  expect(await post(obs, huge, FLAGS)).toMatchObject({ status: 413, body: { code: 'TANDEM_ERR_BODY_TOO_LARGE' } })
  expect(await post(obs, { observations: [{ arm: 'both', ms: 1, error: false }] }, FLAGS)).toMatchObject({
    status: 400,
  })
  expect(await post(obs, { observations: [] }, VIEWER)).toMatchObject({
    status: 403,
    body: { code: 'TANDEM_ERR_FLAGS_ROLE' },
  })
  expect(await post(`${admin}/api/v1/systems/web/observations`, { observations: [] }, FLAGS)).toMatchObject({
    status: 409,
    body: { code: 'TANDEM_ERR_FLAGS_NOT_CODE' },
  })
  expect(instance.metrics.window('checkout', 0, Date.now() + 1000).candidate.requests).toBe(0)
  const ok = await post(obs, { client: 'c1', observations: [{ arm: 'candidate', ms: 2, error: true }] }, FLAGS)
  expect(ok).toMatchObject({ status: 202, body: { recorded: 1 } })
  expect(instance.metrics.window('checkout', 0, Date.now() + 1000).candidate).toMatchObject({ requests: 1, errors: 1 })
  // A flood of full batches (each observation is a counter bump; comparisons go through the engine's
  // bounded queue): every one accepted, nothing kept per observation, evaluations still answered.
  const full = {
    observations: Array.from({ length: 1000 }, (_, i) => ({
      arm: i % 2 === 0 ? 'legacy' : 'candidate',
      ms: 1,
      error: false,
    })),
    comparisons: Array.from({ length: 100 }, () => ({
      legacy: { ms: 1, value: { a: 1 } },
      candidate: { ms: 1, value: { a: 2 } },
    })),
  }
  const body = JSON.stringify(full)
  for (let i = 0; i < 100; i++) expect((await post(obs, body, FLAGS)).status).toBe(202)
  expect(instance.metrics.window('checkout', 0, Date.now() + 1000).legacy.requests).toBe(50_000)
  expect((await post(`${one}/checkout`, { context: { targetingKey: 'u' } }, FLAGS)).status).toBe(200)
  const health = await fetch(`${admin}/healthz`)
  expect(health.status).toBe(200)
}, 60_000)
