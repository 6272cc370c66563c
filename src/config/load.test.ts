import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TandemError } from '../errors.js'
import { parseConfig, type ConfigIssue } from './load.js'

const SYSTEM = `
  - name: todo-api
    legacy: { url: http://127.0.0.1:9001 }
    candidate: { url: http://127.0.0.1:9002 }
    routes: [{ path: /todos/:id }]`

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): ConfigIssue[] {
  try {
    parseConfig(text, 'tandem.yaml', env)
  } catch (error) {
    expect(error).toBeInstanceOf(TandemError)
    return (error as TandemError).details as ConfigIssue[]
  }
  throw new Error('expected the config to be rejected')
}

describe('parseConfig', () => {
  it('applies the product defaults of SPEC 2 and freezes the result', () => {
    const config = parseConfig(`version: 1\nsystems:${SYSTEM}\n`)
    const s = config.systems[0]!
    expect(config.gateway.listen).toBe('127.0.0.1:8080')
    expect(config.admin.listen).toBe('127.0.0.1:8081')
    expect(config.store).toBe('sqlite:.tandem/tandem.db')
    expect(s.shadow).toMatchObject({ sample: 1, unsafeMethods: false, maxBodyBytes: 1024 * 1024, timeout: 2000, maxInFlight: 256 })
    expect(s.rollout.steps.map((x) => x.kind)).toEqual(['shadow', 'weight', 'weight', 'weight', 'weight'])
    expect(s.rollout.steps[1]).toEqual({ kind: 'weight', weight: 5, pauseMs: 300_000, confirm: false })
    expect(s.analysis.promote.matchRate).toMatchObject({ op: '>=', value: 0.8, relative: false })
    expect(s.analysis.rollback.latencyP95).toMatchObject({ op: '>', value: 2, relative: true })
    expect(s.analysis.rollback.throughput).toMatchObject({ op: '<', value: 0.5, relative: true })
    expect(s.analysis.minSamples).toBe(50)
    expect(s.compare.redact).toContain('headers.authorization')
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(s.rollout.steps)).toBe(true)
  })

  it('merges `defaults` under every system, the system winning', () => {
    const config = parseConfig(
      `version: 1\ndefaults:\n  category: api\n  analysis: { interval: 2s, minSamples: 5 }\nsystems:${SYSTEM}\n    analysis: { minSamples: 9 }\n`,
    )
    const s = config.systems[0]!
    expect(s.category).toBe('api')
    expect(s.analysis.interval).toBe(2000)
    expect(s.analysis.minSamples).toBe(9)
  })

  it('gives blue-green and direct strategies their own default steps', () => {
    const config = parseConfig(
      `version: 1\nsystems:${SYSTEM}\n    rollout: { strategy: blue-green }\n${SYSTEM.replace('todo-api', 'other')}\n    rollout: { strategy: direct }\n`,
    )
    expect(config.systems[0]!.rollout.steps.map((s) => s.kind)).toEqual(['shadow', 'switch'])
    expect(config.systems[1]!.rollout.steps).toEqual([{ kind: 'weight', weight: 100, pauseMs: 0, confirm: false }])
  })

  it('locates an unknown key with file, line, column and key path', () => {
    const issues = issuesOf(`version: 1\nsystems:${SYSTEM}\n    colour: blue\n`)
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ code: 'TANDEM_ERR_CONFIG_UNKNOWN_KEY', file: 'tandem.yaml', line: 7, path: 'systems[0].colour' })
    expect(issues[0]!.message).toContain('colour')
  })

  it('rejects bad durations, sizes and rules with their own codes', () => {
    const issues = issuesOf(
      `version: 1\nsystems:${SYSTEM}\n    analysis: { interval: 10 seconds, rollback: { errorRate: "> five" } }\n    shadow: { maxBodyBytes: lots }\n`,
    )
    const codes = issues.map((i) => i.code).sort()
    expect(codes).toEqual(['TANDEM_ERR_CONFIG_DURATION', 'TANDEM_ERR_CONFIG_SIZE', 'TANDEM_ERR_CONFIG_THRESHOLD'])
    expect(issues.find((i) => i.code === 'TANDEM_ERR_CONFIG_DURATION')).toMatchObject({ line: 7, path: 'systems[0].analysis.interval' })
  })

  it('reports a bad value under `defaults` once, at its own place', () => {
    const issues = issuesOf(`version: 1\ndefaults:\n  health: { interval: often }\nsystems:${SYSTEM}${SYSTEM.replace('todo-api', 'b')}\n`)
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ code: 'TANDEM_ERR_CONFIG_DURATION', line: 3, path: 'defaults.health.interval' })
  })

  it('rejects duplicate system names, unknown waves and unknown dependencies', () => {
    const issues = issuesOf(
      `version: 1\nwaves: [{ name: pilot }]\nsystems:${SYSTEM}\n    wave: pilto\n    dependsOn: [ghost]${SYSTEM}\n`,
    )
    expect(issues.map((i) => i.code).sort()).toEqual([
      'TANDEM_ERR_CONFIG_DUPLICATE_SYSTEM',
      'TANDEM_ERR_CONFIG_UNKNOWN_SYSTEM',
      'TANDEM_ERR_CONFIG_UNKNOWN_WAVE',
    ])
  })

  it('names a dependsOn cycle', () => {
    const issues = issuesOf(
      `version: 1\nsystems:${SYSTEM}\n    dependsOn: [b]${SYSTEM.replace('todo-api', 'b')}\n    dependsOn: [c]${SYSTEM.replace('todo-api', 'c')}\n    dependsOn: [todo-api]\n`,
    )
    expect(issues).toHaveLength(1)
    expect(issues[0]!.code).toBe('TANDEM_ERR_CONFIG_CYCLE')
    expect(issues[0]!.message).toContain('todo-api -> b -> c -> todo-api')
  })

  it('requires targets and routes for http systems but not for datastore systems', () => {
    const issues = issuesOf(`version: 1\nsystems:\n  - name: web\n  - name: db\n    kind: datastore\n`)
    expect(issues.map((i) => i.path).sort()).toEqual(['systems[0].candidate', 'systems[0].legacy', 'systems[0].routes'])
    expect(new Set(issues.map((i) => i.code))).toEqual(new Set(['TANDEM_ERR_CONFIG_REQUIRED']))
  })

  it('resolves env:NAME secrets and reports unset ones where they are written', () => {
    const text = `version: 1\nadmin:\n  tokens:\n    - { name: ops, role: operator, token: env:OPS_TOKEN }\n`
    expect(parseConfig(text, 'tandem.yaml', { OPS_TOKEN: 'a-very-long-secret-token' }).admin.tokens[0]!.token).toBe('a-very-long-secret-token')
    const issues = issuesOf(text, {})
    expect(issues[0]).toMatchObject({ code: 'TANDEM_ERR_CONFIG_ENV_MISSING', line: 4, path: 'admin.tokens[0].token' })
  })

  it('reports YAML syntax errors with their position', () => {
    expect(() => parseConfig('version: 1\nsystems: [\n')).toThrowError(expect.objectContaining({ code: 'TANDEM_ERR_CONFIG_PARSE' }))
  })

  it('rejects every malformed duration and accepts every well-formed one (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom('ms', 's', 'm', 'h'), (n, unit) => {
        const config = parseConfig(`version: 1\nsystems:${SYSTEM}\n    health: { interval: ${n}${unit} }\n`)
        const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]
        expect(config.systems[0]!.health.interval).toBe(n * factor)
      }),
      { numRuns: 50 },
    )
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z ]{1,8}$/), (junk) => {
        const issues = issuesOf(`version: 1\nsystems:${SYSTEM}\n    health: { interval: "${junk}" }\n`)
        expect(issues.map((i) => i.code)).toEqual(['TANDEM_ERR_CONFIG_DURATION'])
      }),
      { numRuns: 50 },
    )
  })
})
