// The CLI's admin client against a real `tandem up` instance with tokens: the bearer token is sent,
// refusals keep the server's code, the admin URL comes from the config when --admin is not given.
import { afterEach, expect, it } from 'vitest'
import { AdminClient } from '../../src/cli/admin-client.js'
import { system, tandemConfig } from '../support/config.js'
import { buildInstance } from '../support/instance.js'

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

const OPERATOR = 'operator-token-0123456789'
const VIEWER = 'viewer-token-0123456789ab'

it('acts with an operator token and keeps the server error codes', async () => {
  const document = tandemConfig({
    tokens: [
      { name: 'ops', role: 'operator', token: OPERATOR },
      { name: 'dash', role: 'viewer', token: VIEWER },
    ],
    systems: [system('ledger', { rollout: { steps: [{ shadow: '1h' }, { weight: 100 }] } })],
  })
  // With the comparison engine and the controller, as `tandem up` runs.
  const { instance, configFile } = await buildInstance(document, { comparisons: {}, controller: {} })
  cleanup.push(() => instance.close())

  const viewer = await AdminClient.from({ admin: instance.adminUrl, token: VIEWER }, {})
  const { systems } = await viewer.get<{ systems: Array<{ name: string; stage: string; holdReason: string | null }> }>(
    '/api/v1/systems',
  )
  expect(systems).toEqual([
    expect.objectContaining({ name: 'ledger', stage: 'pending', holdReason: 'not started; run `tandem start`' }),
  ])
  await expect(viewer.post('/api/v1/systems/ledger/actions/start', { force: true })).rejects.toMatchObject({
    code: 'TANDEM_ERR_ADMIN_FORBIDDEN',
    exitCode: 2,
  })

  // The token may come from TANDEM_TOKEN.
  const operator = await AdminClient.from({ admin: instance.adminUrl }, { TANDEM_TOKEN: OPERATOR })
  const started = await operator.post<{ action: string; state: { stage: string }; decision: { actor: string } }>(
    '/api/v1/systems/ledger/actions/start',
    { force: true },
  )
  expect(started).toMatchObject({ action: 'start', state: { stage: 'shadow' }, decision: { actor: 'ops' } })
  const refused = await operator.post('/api/v1/systems/ledger/actions/finalize', {}).catch((e: unknown) => e)
  expect(refused).toMatchObject({ code: 'TANDEM_ERR_ACTION_INVALID' })
  expect((refused as Error).message).toContain('cannot finalize "ledger" while it is shadow')
  await expect(
    new AdminClient(instance.adminUrl, 'wrong-token-0123456789').get('/api/v1/systems'),
  ).rejects.toMatchObject({ code: 'TANDEM_ERR_ADMIN_UNAUTHORIZED' })

  // Without --admin the URL is the config's admin.listen (port 0 here, so nothing answers there).
  const fromConfig = await AdminClient.from({ config: configFile }, {})
  expect(fromConfig.baseUrl).toBe('http://127.0.0.1:0')
})
