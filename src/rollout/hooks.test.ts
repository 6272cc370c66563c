import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { runHook, type HookPayload } from './hooks.js'

const payload: HookPayload = {
  kind: 'step',
  system: 'api',
  stage: 'canary',
  weight: 25,
  stepIndex: 2,
  reason: 'step passed',
  text: 'tandem: api',
  at: new Date(0).toISOString(),
}
const hook = (command: string) => ({ command, headers: {}, timeout: 10_000 })

describe('shell command hooks', () => {
  it('pass the payload on stdin and TANDEM_* variables', async () => {
    const out = await runHook(
      hook(
        `read -r line; node -e 'const p = JSON.parse(process.argv[1]); if (p.weight !== 25 ||` +
          ` process.env.TANDEM_STAGE !== "canary" || process.env.TANDEM_HOOK !== "step") process.exit(3);` +
          ` console.log("ok " + p.system)' "$line"`,
      ),
      payload,
    )
    expect(out.ok).toBe(true)
    expect(out.detail).toContain('exited 0: ok api')
  })

  it('report a non-zero exit as a refusal with its last output line', async () => {
    const out = await runHook(hook('echo "checks failing" >&2; exit 4'), payload)
    expect(out).toEqual({ ok: false, detail: '`echo "checks failing" >&2; exit 4` exited 4: checks failing' })
  })
})

describe('webhooks', () => {
  it('report an unreachable webhook as a refusal instead of throwing', async () => {
    const out = await runHook({ webhook: 'http://127.0.0.1:9/hook', headers: {}, timeout: 2000 }, payload)
    expect(out.ok).toBe(false)
  })
})

describe('hook outcomes never carry a secret of the hook URL or command', () => {
  it('name a webhook by its origin only: its token may sit in the path (Slack) or the query', async () => {
    const server = createServer((req, res) => req.resume().on('end', () => res.writeHead(500).end('busy')))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const out = await runHook(
        { webhook: `${origin}/services/T0/B0/pathSecret42?token=querySecret42`, headers: {}, timeout: 5000 },
        payload,
      )
      expect(out).toEqual({ ok: false, detail: `POST ${origin}/… answered 500: busy` })
    } finally {
      server.close()
    }
    const down = await runHook(
      {
        webhook: 'http://hook:userSecret42@127.0.0.1:9/services/x/pathSecret42?sig=querySecret42',
        headers: {},
        timeout: 2000,
      },
      payload,
    )
    expect(down.ok).toBe(false)
    expect(down.detail).toContain('POST http://127.0.0.1:9/… failed')
    for (const secret of ['userSecret42', 'pathSecret42', 'querySecret42']) expect(down.detail).not.toContain(secret)
  })

  it('mask URL passwords in a command line and its output', async () => {
    const out = await runHook(
      hook('echo "cannot reach postgres://app:cmdSecret42@db.internal:5432/app" >&2; exit 3'),
      payload,
    )
    expect(out.ok).toBe(false)
    expect(out.detail).not.toContain('cmdSecret42')
    expect(out.detail).toContain('postgres://app:***@db.internal:5432/app')
  })
})
