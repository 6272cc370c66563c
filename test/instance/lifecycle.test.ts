// The instance as `tandem up` runs it: rollout state survives a restart, an invalid config stops
// startup with exit 2 and a located, coded error, an invalid reload keeps the running config, and
// malformed requests or oversized headers get a 4xx while the gateway keeps serving.
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tandem } from '../support/cli.js'
import {
  invalidConfig,
  lineOf,
  system,
  tandemConfig,
  toYaml,
  writeConfig,
  type ConfigInput,
  type SystemInput,
} from '../support/config.js'
import { buildInstance } from '../support/instance.js'
import { temporaryDir } from '../support/temp-dir.js'
import { openStore } from '../../src/store/open.js'
import { recordDecision } from '../../src/store/system-state.js'
import { origin, type Origin } from '../support/loopback.js'

let legacy: Origin
let candidate: Origin

beforeAll(async () => {
  const answer = (arm: string) => (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(200, { 'x-arm': arm })
    res.end(arm)
  }
  legacy = await origin(answer('legacy'))
  candidate = await origin(answer('candidate'))
})

afterAll(async () => {
  await Promise.all([legacy?.close(), candidate?.close()])
})

async function armOf(base: string, path: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await request(`${base}${path}`, { headers })
  return res.body.text()
}

/** alpha and beta (canary) and gamma (blue-green), each on /NAME/**, and any `extra` systems. */
function config(extra: SystemInput[] = [], dir?: string): ConfigInput {
  const sys = (name: string, strategy: 'canary' | 'blue-green' = 'canary') =>
    system(name, {
      legacy: legacy.url,
      candidate: candidate.url,
      routes: [{ path: `/${name}/**` }],
      rollout: { strategy, stickiness: 'header:x-user-id' },
    })
  return tandemConfig({
    ...(dir === undefined ? {} : { dir }),
    systems: [sys('alpha'), sys('beta'), sys('gamma', 'blue-green'), ...extra],
  })
}

describe('restart', () => {
  it('keeps every system stage, weight and step', async () => {
    const dir = temporaryDir('tandem-restart-')
    const store = await openStore(`sqlite:${join(dir, 'tandem.db')}`)
    await recordDecision(
      store,
      'alpha',
      0,
      { stage: 'promoted', weight: 100, stepIndex: 4 },
      { action: 'promote', actor: 'test', reason: 'setup' },
    )
    await recordDecision(
      store,
      'beta',
      0,
      { stage: 'canary', weight: 50, stepIndex: 3 },
      { action: 'advance', actor: 'test', reason: 'setup' },
    )
    await recordDecision(
      store,
      'gamma',
      0,
      { stage: 'canary', weight: 0, stepIndex: 1, activeArm: 'candidate' },
      { action: 'advance', actor: 'test', reason: 'setup' },
    )
    await store.close()
    for (let round = 0; round < 2; round++) {
      const t = await buildInstance(config(), { dir })
      try {
        expect(t.instance.routing.get('alpha')).toMatchObject({ stage: 'promoted', weight: 100 })
        expect(t.instance.routing.get('beta')).toMatchObject({ stage: 'canary', weight: 50 })
        expect(t.instance.routing.get('gamma')).toMatchObject({ stage: 'canary', activeArm: 'candidate' })
        expect(await armOf(t.instance.gatewayUrl, '/alpha/x')).toBe('candidate')
        expect(await armOf(t.instance.gatewayUrl, '/gamma/x')).toBe('candidate')
        const arms = await Promise.all(
          Array.from({ length: 400 }, (_, i) => armOf(t.instance.gatewayUrl, '/beta/x', { 'x-user-id': `u${i}` })),
        )
        const share = arms.filter((a) => a === 'candidate').length / arms.length
        expect(share).toBeGreaterThan(0.4)
        expect(share).toBeLessThan(0.6)
        const states = await t.instance.store.db
          .selectFrom('system_state')
          .select(['system', 'step_index'])
          .orderBy('system')
          .execute()
        expect(states.map((s) => [s.system, s.step_index])).toEqual([
          ['alpha', 4],
          ['beta', 3],
          ['gamma', 1],
        ])
      } finally {
        await t.close()
      }
    }
  })
})

describe('configuration errors', () => {
  it('an invalid config exits 2 at startup with a located, coded error', async () => {
    const dir = temporaryDir('tandem-bad-')
    const document = tandemConfig({
      systems: [system('api', { legacy: legacy.url, candidate: candidate.url, shadow: { timeout: 'soon' } })],
    })
    const bad = writeConfig(dir, document, 'bad.yaml')
    const { code, stderr } = await tandem(['up', '-c', bad])
    expect(code).toBe(2)
    expect(stderr).toContain('TANDEM_ERR_CONFIG_INVALID')
    expect(stderr).toContain(`${bad}:${lineOf(toYaml(document), 'timeout: soon')}:`)
    expect(stderr).toContain('systems[0].shadow.timeout')
    expect(stderr).toContain('TANDEM_ERR_CONFIG_DURATION')
  })

  it(
    'an invalid reload is rejected with its errors and ' + 'the running config keeps serving; a valid one applies',
    async () => {
      const t = await buildInstance(config())
      try {
        t.instance.routing.set('alpha', { stage: 'promoted', weight: 100, activeArm: 'candidate', paused: false })
        const unknown = toYaml(
          invalidConfig({ ...tandemConfig({ dir: t.dir }), systems: [{ name: 'alpha', unknownKey: 1 }] }),
        )
        writeFileSync(t.configFile, unknown)
        const rejected = await t.instance.reload('test')
        expect(rejected.ok).toBe(false)
        if (!rejected.ok)
          expect(
            rejected.errors.some(
              (e) => e.code === 'TANDEM_ERR_CONFIG_UNKNOWN_KEY' && e.line === lineOf(unknown, 'unknownKey'),
            ),
          ).toBe(true)
        expect(await armOf(t.instance.gatewayUrl, '/alpha/x')).toBe('candidate')
        expect(await armOf(t.instance.gatewayUrl, '/beta/x')).toBe('legacy')

        // A valid file with a new route applies without a restart; the rollout state stays.
        writeConfig(t.dir, config([system('delta', { legacy: candidate.url, routes: [{ path: '/delta/**' }] })], t.dir))
        expect(await t.instance.reload('test')).toEqual({ ok: true })
        expect(await armOf(t.instance.gatewayUrl, '/delta/x')).toBe('candidate')
        expect(await armOf(t.instance.gatewayUrl, '/alpha/x')).toBe('candidate')
      } finally {
        await t.close()
      }
    },
  )
})

describe('malformed requests', () => {
  async function raw(url: string, text: string): Promise<string> {
    const { hostname, port } = new URL(url)
    const socket = connect(Number(port), hostname)
    await once(socket, 'connect')
    socket.write(text)
    let answer = ''
    socket.on('data', (c: Buffer) => (answer += c.toString()))
    await Promise.race([once(socket, 'close'), once(socket, 'end')])
    socket.destroy()
    return answer
  }

  it('get a coded 4xx and the gateway stays up', async () => {
    const t = await buildInstance(config())
    try {
      const garbage = await raw(t.instance.gatewayUrl, 'THIS IS NOT HTTP\r\n\r\n')
      expect(garbage).toMatch(/^HTTP\/1\.1 400 /)
      expect(garbage).toContain('TANDEM_ERR_BAD_REQUEST')
      const huge = await raw(
        t.instance.gatewayUrl,
        `GET /alpha/x HTTP/1.1\r\nhost: a\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
      )
      expect(huge).toMatch(/^HTTP\/1\.1 431 /)
      expect(huge).toContain('TANDEM_ERR_HEADERS_TOO_LARGE')
      const badLength = await raw(
        t.instance.gatewayUrl,
        'POST /alpha/x HTTP/1.1\r\nhost: a\r\ncontent-length: abc\r\n\r\n',
      )
      expect(badLength).toMatch(/^HTTP\/1\.1 400 /)
      expect(await armOf(t.instance.gatewayUrl, '/alpha/x')).toBe('legacy')
    } finally {
      await t.close()
    }
  })
})
