// shadow.timeout bounds the whole mirrored exchange (issue 12, item 5): a candidate that trickles its
// body a byte at a time, each gap shorter than the timeout, used to hold its mirror slot until the body
// ended (30 s), and the mirrors after it were dropped as queue-full.
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { system, tandemConfig } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { buildInstance, type TestInstance } from '../support/instance.js'
import { origin, promValue, type Origin } from '../support/loopback.js'

describe('shadow.timeout against a trickling candidate', () => {
  let legacy: Origin
  let trickle: Origin
  let closedByGateway = 0
  let tandem: TestInstance

  beforeAll(async () => {
    legacy = await origin((_req, res) => res.end('legacy'))
    trickle = await origin((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      // 1 byte every 50 ms for up to 30 s: every gap is far below the 300 ms timeout.
      let sent = 0
      const timer = setInterval(() => {
        if (++sent > 600) {
          clearInterval(timer)
          res.end()
        } else res.write('x')
      }, 50)
      res.on('close', () => {
        clearInterval(timer)
        if (!res.writableFinished) closedByGateway++
      })
    })
    tandem = await buildInstance(
      tandemConfig({
        systems: [
          system('slowbody', {
            legacy: legacy.url,
            candidate: trickle.url,
            shadow: { timeout: '300ms', maxInFlight: 1 },
          }),
        ],
      }),
    )
    tandem.instance.routing.set('slowbody', { stage: 'shadow', weight: 0, activeArm: 'legacy', paused: false })
  })

  afterAll(async () => {
    await tandem?.close()
    await Promise.all([legacy?.close(), trickle?.close()])
  })

  const count = (result: string) =>
    promValue(tandem.instance.adminUrl, 'tandem_shadow_total', { system: 'slowbody', result })

  it('ends each mirror call at the timeout, counts it as timeout and frees its slot for the next mirror', async () => {
    for (let i = 1; i <= 4; i++) {
      const res = await request(`${tandem.instance.gatewayUrl}/item/${i}`)
      expect(await res.body.text()).toBe('legacy')
      // Each mirror must end (as a timeout) long before the candidate's 30 s body would.
      expect(await eventually(() => count('timeout'), { until: (n) => n >= i })).toBe(i)
    }
    expect(await count('queue-full')).toBe(0)
    expect(await count('mirrored')).toBe(0)
    // The gateway hung up on the candidate rather than reading the trickle to the end.
    expect(await eventually(async () => closedByGateway, { until: (n) => n >= 4 })).toBe(4)
  })
})
