import { describe, expect, it } from 'vitest'
import { runHook, type HookPayload } from './hooks.js'

const payload: HookPayload = { kind: 'step', system: 'api', stage: 'canary', weight: 25, stepIndex: 2, reason: 'step passed', text: 'tandem: api', at: new Date(0).toISOString() }
const hook = (command: string) => ({ command, headers: {}, timeout: 10_000 })

describe('shell command hooks', () => {
  it('pass the payload on stdin and TANDEM_* variables', async () => {
    const out = await runHook(hook(`read -r line; node -e 'const p = JSON.parse(process.argv[1]); if (p.weight !== 25 || process.env.TANDEM_STAGE !== "canary" || process.env.TANDEM_HOOK !== "step") process.exit(3); console.log("ok " + p.system)' "$line"`), payload)
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
