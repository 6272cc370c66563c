// `kind: code` systems in tandem.yaml (SPEC 12): no targets and no routes; a key that does not apply is a
// coded error at its file:line:column that says which keys do.
import { expect, it } from 'vitest'
import { TandemError } from '../errors.js'
import { parseConfig, type ConfigIssue } from '../config/load.js'

it('accepts a code system with rollout, analysis, checklist and wave, and no targets', () => {
  const config = parseConfig(`version: 1
waves: [{ name: pilot }]
admin: { tokens: [{ name: app, role: flags, token: flags-token-0123456789 }] }
systems:
  - name: checkout
    kind: code
    wave: pilot
    rollout: { stickiness: header:x-user-id, steps: [{ shadow: 5m }, { weight: 30, pause: 10m }, { weight: 100 }] }
    analysis: { interval: 5s, minSamples: 20 }
    checklist: { rollbackPlan: { path: ROLLBACK.md } }
`)
  expect(config.systems[0]).toMatchObject({ kind: 'code', routes: [], wave: 'pilot' })
  expect(config.systems[0]!.legacy).toBeUndefined()
  expect(config.admin.tokens[0]!.role).toBe('flags')
})

it('refuses targets and routes on a code system, naming the keys that apply', () => {
  let issues: ConfigIssue[] = []
  try {
    parseConfig(
      `version: 1
systems:
  - name: checkout
    kind: code
    legacy: { url: http://127.0.0.1:9001 }
    routes: [{ path: /** }]
`,
      'tandem.yaml',
    )
  } catch (error) {
    expect(error).toBeInstanceOf(TandemError)
    issues = (error as TandemError).details as ConfigIssue[]
  }
  expect(issues).toEqual([
    expect.objectContaining({
      code: 'TANDEM_ERR_CONFIG_KIND',
      file: 'tandem.yaml',
      line: 5,
      column: 13,
      path: 'systems[0].legacy',
    }),
    expect.objectContaining({ code: 'TANDEM_ERR_CONFIG_KIND', line: 6, path: 'systems[0].routes' }),
  ])
  expect(issues[0]!.message).toContain('takes rollout, analysis, checklist')
})
