// A 13 KB path on a template with several `**` (issue 12, item 1) used to spend seconds in the route
// regex and stall every client of the gateway. It is matched by segments now; this proves the answers
// are right through the real listener while other clients are served. Its cost is measured, not asserted.
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { system, tandemConfig } from '../support/config.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { origin, type Origin } from '../support/loopback.js'

describe('long adversarial paths at the gateway', () => {
  let shop: Origin
  let rest: Origin
  let tandem: TestInstance

  beforeAll(async () => {
    shop = await origin((req, res) => res.end(`shop ${req.url!.length}`))
    rest = await origin((req, res) => res.end(`rest ${req.url!.length}`))
    tandem = await buildInstance(
      tandemConfig({
        gateway: { fallback: rest.url },
        systems: [system('shop', { legacy: shop.url, routes: [{ path: '/shop/**/orders/**/lines/**/detail' }] })],
      }),
    )
  })

  afterAll(async () => {
    await tandem?.close()
    await Promise.all([shop?.close(), rest?.close()])
  })

  const get = async (path: string) => (await request(`${tandem.instance.gatewayUrl}${path}`)).body.text()

  it('routes 13 KB near-misses to the fallback and hits to the route, while small requests are served', async () => {
    const miss = `/shop${'/orders/lines'.repeat(1000)}/details`
    const hit = `/shop${'/orders/lines'.repeat(1000)}/detail`
    expect(miss.length).toBeGreaterThan(13_000)
    const answers = await Promise.all([get(miss), get(hit), get('/ping'), get(miss), get('/shop/orders/lines/detail')])
    expect(answers).toEqual([`rest ${miss.length}`, `shop ${hit.length}`, 'rest 5', `rest ${miss.length}`, 'shop 25'])
  })
})
