// The Node.js example of docs/flags.md, run as written against a real instance: the official OpenFeature
// SDK with its OFREP provider picks each user's checkout by the gateway's bucket and the targeting rule.
import { readFile, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { OpenFeature } from '@openfeature/server-sdk'
import { afterEach, expect, it } from 'vitest'
import { bucket } from '../../src/gateway/assign-arm.js'
import { FLAGS, act, codeSystem, flagInstance } from './support.js'

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
  cleanup = []
})

it('runs the OpenFeature example of docs/flags.md', async () => {
  const doc = await readFile(new URL('../../docs/flags.md', import.meta.url), 'utf8')
  const code = /<!-- example: flags-openfeature -->\n```js\n([\s\S]*?)```/.exec(doc)?.[1]
  expect(code).toBeDefined()
  const { instance } = await flagInstance(
    [
      codeSystem('checkout', {
        rollout: {
          steps: [{ weight: 30, pause: '1h' }, { weight: 100 }],
          targeting: [{ header: 'x-tenant', in: ['internal'], arm: 'candidate' }],
        },
        analysis: { interval: '1h' },
      }),
    ],
    cleanup,
  )
  await act(instance.adminUrl, 'checkout', 'start')
  // Written beside this test so the example's imports resolve like an application's.
  const file = fileURLToPath(new URL(`./.docs-example-${process.pid}.mjs`, import.meta.url))
  await writeFile(file, code!)
  cleanup.push(() => rm(file, { force: true }))
  cleanup.push(() => OpenFeature.close())
  process.env.TANDEM_ADMIN = instance.adminUrl
  process.env.TANDEM_TOKEN = FLAGS
  const example = (await import(file)) as {
    checkout: (u: { id: string; tenant?: string }) => Promise<{ by: string; user: string }>
  }
  for (let i = 0; i < 300; i++) {
    const id = `user-${i}`
    expect(await example.checkout({ id, tenant: 'acme' })).toEqual({
      by: bucket('checkout', id) < 3000 ? 'candidate' : 'legacy',
      user: id,
    })
  }
  expect(await example.checkout({ id: 'user-1', tenant: 'internal' })).toEqual({ by: 'candidate', user: 'user-1' })
}, 60_000)
