// A hot reload of a huge invalid tandem.yaml on a real `tandem up` (its own process): the file is read
// and validated off the serving thread, so the gateway keeps answering while it is judged, and the
// reload is refused with its coded, capped errors. Probes are counted, never timed; the worst probe
// latency is printed as a report figure only.
//
// A loop that validates on the serving thread still answers the few probes that land before validation
// starts (while the request is routed and the file is read): 4 during the admin reload and 1 during the
// SIGHUP one, measured with loadConfig in place of loadConfigOffThread. Off the thread, probes are
// answered for the whole reload (over a thousand here), hence the bar of 25 answered probes.
import { writeFileSync } from 'node:fs'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { invalidConfig, system, tandemConfig, toYaml, writeConfig } from '../support/config.js'
import { eventually } from '../support/eventually.js'
import { temporaryDir } from '../support/temp-dir.js'
import { spawnUp } from '../support/up.js'
import { origin, type Origin } from '../support/loopback.js'

let upstream: Origin
let dir: string

beforeAll(async () => {
  upstream = await origin((req, res) => res.end(`ok ${req.url}`))
  dir = temporaryDir('tandem-reload-')
})

afterAll(async () => {
  await upstream?.close()
})

const config = () => tandemConfig({ dir, systems: [system('api', { legacy: upstream.url })] })

/** 20,000 unknown top-level keys (the size that stalled the gateway in issue 12): all of it invalid. */
const ANSWERED_DURING_RELOAD = 25
const hugeInvalid = (): string =>
  toYaml(
    invalidConfig({ ...config(), ...Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`unknown${i}`, i])) }),
  )

/** Sequential requests until stopped; each completion is recorded with its latency. */
function probe(url: string): { completions: { at: number; ms: number; status: number }[]; stop: () => Promise<void> } {
  const completions: { at: number; ms: number; status: number }[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const start = performance.now()
      const res = await request(url)
      await res.body.dump()
      completions.push({ at: performance.now(), ms: performance.now() - start, status: res.statusCode })
    }
  })()
  return { completions, stop: async () => ((running = false), await loop) }
}

function between(completions: readonly { at: number; ms: number; status: number }[], from: number, to: number) {
  const inside = completions.filter((c) => c.at > from && c.at < to)
  return {
    count: inside.length,
    worstMs: Math.max(0, ...inside.map((c) => c.ms)),
    statuses: new Set(inside.map((c) => c.status)),
  }
}

describe('hot reload of a huge invalid config', () => {
  it(
    'keeps serving while a huge invalid tandem.yaml is judged, then ' +
      'refuses it with coded, capped errors (admin API and SIGHUP)',
    async () => {
      const file = writeConfig(dir, config())
      const t = await spawnUp(file, { args: ['--no-controller'] })
      const probes = probe(`${t.gatewayUrl}/probe`)
      try {
        // A baseline for the report figure: the same probes with no reload running.
        await eventually(() => expect(probes.completions.length).toBeGreaterThan(300), { tries: 3000, every: 20 })
        const idle = between(probes.completions, 0, performance.now())
        const huge = hugeInvalid()
        writeFileSync(file, huge)

        // Admin API: the answer marks the end of the reload.
        const apiStart = performance.now()
        const res = await request(`${t.adminUrl}/api/v1/config/reload`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        })
        const body = (await res.body.json()) as { code: string; message: string; details: { code: string }[] }
        const apiEnd = performance.now()
        expect(res.statusCode).toBe(400)
        expect(body.code).toBe('TANDEM_ERR_CONFIG_INVALID')
        // The message counts every error, not only the 100 listed.
        expect(body.message).toMatch(/^20000 error\(s\)/)
        expect(body.details).toHaveLength(101)
        expect(body.details[0]!.code).toBe('TANDEM_ERR_CONFIG_UNKNOWN_KEY')
        expect(body.details[100]!.code).toBe('TANDEM_ERR_CONFIG_TOO_MANY_ERRORS')
        const api = between(probes.completions, apiStart, apiEnd)
        expect(api.count).toBeGreaterThanOrEqual(ANSWERED_DURING_RELOAD)
        expect(api.statuses).toEqual(new Set([200]))

        // SIGHUP: the log line of the refusal marks the end.
        // The log of the first refusal may reach us after its HTTP answer: wait for it before counting.
        const refusals = () => t.stderr().split('reload rejected').length - 1
        await eventually(() => expect(refusals()).toBe(1), { tries: 1500, every: 20 })
        const logBefore = t.stderr().length
        const hupStart = performance.now()
        t.child.kill('SIGHUP')
        await eventually(() => expect(refusals()).toBe(2), { tries: 6000, every: 20 })
        const hupEnd = performance.now()
        const hup = between(probes.completions, hupStart, hupEnd)
        expect(hup.count).toBeGreaterThanOrEqual(ANSWERED_DURING_RELOAD)
        expect(hup.statuses).toEqual(new Set([200]))
        expect(t.stderr().slice(logBefore)).toContain('TANDEM_ERR_CONFIG_TOO_MANY_ERRORS')
        expect(t.child.exitCode).toBeNull()

        // A report figure, not an assertion: how long the slowest probe waited during each reload.
        console.log(
          `idle: ${idle.count} probes, worst ${idle.worstMs.toFixed(1)} ms; reload of ${huge.length} bytes: ` +
            `admin API ${(apiEnd - apiStart).toFixed(0)} ms, ${api.count} probes, ` +
            `worst ${api.worstMs.toFixed(1)} ms; ` +
            `SIGHUP ${(hupEnd - hupStart).toFixed(0)} ms, ${hup.count} probes, worst ${hup.worstMs.toFixed(1)} ms`,
        )
      } finally {
        await probes.stop()
        await t.kill()
      }
    },
    300_000,
  )
})
