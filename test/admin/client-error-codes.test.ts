// Regression test for issue 12, defect 12 (admin side): a body over the admin API's limit and a path
// the dashboard's static files refuse answered TANDEM_ERR_BAD_REQUEST; each now has its own code.
import { request } from 'undici'
import { afterEach, expect, it } from 'vitest'
import { call, startAdmin, TOKENS, type AdminHarness } from './harness.js'

let h: AdminHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

it('answers a body over the limit with 413 TANDEM_ERR_BODY_TOO_LARGE', async () => {
  h = await startAdmin()
  const res = await call(h.url, 'POST', '/api/v1/systems/todo-api/pause', {
    token: TOKENS.operator,
    body: { reason: 'x'.repeat(2_000_000) },
  })
  expect(res.status).toBe(413)
  expect(res.body.code).toBe('TANDEM_ERR_BODY_TOO_LARGE')
})

it('answers a dashboard path that leaves its directory with 403 TANDEM_ERR_PATH_FORBIDDEN', async () => {
  h = await startAdmin({ server: { dashboard: true } })
  const res = await request(`${h.url}/..%5c..%5cpackage.json`)
  expect(res.statusCode).toBe(403)
  const body = (await res.body.json()) as { code: string; message: string }
  expect(body.code).toBe('TANDEM_ERR_PATH_FORBIDDEN')
  // The listener keeps serving the dashboard itself.
  expect((await request(`${h.url}/`)).statusCode).toBe(200)
})
