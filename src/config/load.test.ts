import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TandemError } from '../errors.js'
import { loadConfig, MAX_ISSUES, parseConfig, type ConfigIssue } from './load.js'
import { YAML_LIMITS } from './yaml-document.js'

const SYSTEM = `
  - name: todo-api
    legacy: { url: http://127.0.0.1:9001 }
    candidate: { url: http://127.0.0.1:9002 }
    routes: [{ path: /todos/:id }]`

function errorOf(text: string, env: NodeJS.ProcessEnv = {}): TandemError {
  try {
    parseConfig(text, 'tandem.yaml', env)
  } catch (error) {
    expect(error).toBeInstanceOf(TandemError)
    return error as TandemError
  }
  throw new Error('expected the config to be rejected')
}

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): ConfigIssue[] {
  return errorOf(text, env).details as ConfigIssue[]
}

describe('parseConfig', () => {
  it('applies the product defaults of SPEC 2 and freezes the result', () => {
    const config = parseConfig(`version: 1\nsystems:${SYSTEM}\n`)
    const s = config.systems[0]!
    expect(config.gateway.listen).toBe('127.0.0.1:8080')
    expect(config.admin.listen).toBe('127.0.0.1:8081')
    expect(config.store).toBe('sqlite:.tandem/tandem.db')
    expect(s.shadow).toMatchObject({
      sample: 1,
      unsafeMethods: false,
      maxBodyBytes: 1024 * 1024,
      timeout: 2000,
      maxInFlight: 256,
    })
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
      `version: 1\ndefaults:\n  category: api\n  analysis: { interval: 2s, minSamples: 5 }\n` +
        `systems:${SYSTEM}\n    analysis: { minSamples: 9 }\n`,
    )
    const s = config.systems[0]!
    expect(s.category).toBe('api')
    expect(s.analysis.interval).toBe(2000)
    expect(s.analysis.minSamples).toBe(9)
  })

  it('gives blue-green and direct strategies their own default steps', () => {
    const config = parseConfig(
      `version: 1\nsystems:${SYSTEM}\n    rollout: { strategy: blue-green }\n` +
        `${SYSTEM.replace('todo-api', 'other')}\n    rollout: { strategy: direct }\n`,
    )
    expect(config.systems[0]!.rollout.steps.map((s) => s.kind)).toEqual(['shadow', 'switch'])
    expect(config.systems[1]!.rollout.steps).toEqual([{ kind: 'weight', weight: 100, pauseMs: 0, confirm: false }])
  })

  it('locates an unknown key with file, line, column and key path', () => {
    const issues = issuesOf(`version: 1\nsystems:${SYSTEM}\n    colour: blue\n`)
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({
      code: 'TANDEM_ERR_CONFIG_UNKNOWN_KEY',
      file: 'tandem.yaml',
      line: 7,
      path: 'systems[0].colour',
    })
    expect(issues[0]!.message).toContain('colour')
  })

  it('rejects bad durations, sizes and rules with their own codes', () => {
    const issues = issuesOf(
      `version: 1\nsystems:${SYSTEM}\n    analysis: { interval: 10 seconds, rollback: { errorRate: "> five" } }\n` +
        `    shadow: { maxBodyBytes: lots }\n`,
    )
    const codes = issues.map((i) => i.code).sort()
    expect(codes).toEqual(['TANDEM_ERR_CONFIG_DURATION', 'TANDEM_ERR_CONFIG_SIZE', 'TANDEM_ERR_CONFIG_THRESHOLD'])
    expect(issues.find((i) => i.code === 'TANDEM_ERR_CONFIG_DURATION')).toMatchObject({
      line: 7,
      path: 'systems[0].analysis.interval',
    })
  })

  it('reports a bad value under `defaults` once, at its own place', () => {
    const issues = issuesOf(
      `version: 1\ndefaults:\n  health: { interval: often }\nsystems:${SYSTEM}${SYSTEM.replace('todo-api', 'b')}\n`,
    )
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
      `version: 1\nsystems:${SYSTEM}\n    dependsOn: [b]${SYSTEM.replace('todo-api', 'b')}\n` +
        `    dependsOn: [c]${SYSTEM.replace('todo-api', 'c')}\n    dependsOn: [todo-api]\n`,
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
    expect(parseConfig(text, 'tandem.yaml', { OPS_TOKEN: 'a-very-long-secret-token' }).admin.tokens[0]!.token).toBe(
      'a-very-long-secret-token',
    )
    const issues = issuesOf(text, {})
    expect(issues[0]).toMatchObject({ code: 'TANDEM_ERR_CONFIG_ENV_MISSING', line: 4, path: 'admin.tokens[0].token' })
  })

  it('reports YAML syntax errors with their position', () => {
    expect(() => parseConfig('version: 1\nsystems: [\n')).toThrowError(
      expect.objectContaining({ code: 'TANDEM_ERR_CONFIG_PARSE' }),
    )
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

describe('parseConfig on hostile or huge input', () => {
  const BOMB = `version: 1
a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
`

  it('lists the first 100 of 20,000 unknown keys, each at its line, and counts the rest in one entry', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${i}: 1`).join('\n')
    const error = errorOf(`version: 1\n${keys}\n`)
    expect(error.code).toBe('TANDEM_ERR_CONFIG_INVALID')
    expect(error.message).toContain('20000 error(s)')
    const issues = error.details as ConfigIssue[]
    expect(issues).toHaveLength(MAX_ISSUES + 1)
    issues
      .slice(0, MAX_ISSUES)
      .forEach((issue, i) =>
        expect(issue).toMatchObject({ code: 'TANDEM_ERR_CONFIG_UNKNOWN_KEY', line: i + 2, path: `k${i}` }),
      )
    expect(issues[MAX_ISSUES]).toMatchObject({ code: 'TANDEM_ERR_CONFIG_TOO_MANY_ERRORS', line: MAX_ISSUES + 2 })
    expect(issues[MAX_ISSUES]!.message).toContain('19900 more')
  })

  it('refuses an alias bomb (billion laughs) with a coded error at the alias that crosses the limit', () => {
    const error = errorOf(BOMB)
    expect(error.code).toBe('TANDEM_ERR_CONFIG_PARSE')
    const issues = error.details as ConfigIssue[]
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ code: 'TANDEM_ERR_CONFIG_ALIAS', line: 7 })
    expect(issues[0]!.message).toContain(`more than ${YAML_LIMITS.maxAliasValues} values`)
  })

  it('refuses an alias used before its anchor with a coded error at the alias', () => {
    const error = errorOf('version: 1\nstore: *s\ngateway: { listen: &s 127.0.0.1:8080 }\n')
    expect(error.code).toBe('TANDEM_ERR_CONFIG_PARSE')
    expect((error.details as ConfigIssue[])[0]).toMatchObject({ code: 'TANDEM_ERR_CONFIG_ALIAS', line: 2, column: 8 })
    expect(error.message).toContain('*s comes before its anchor &s')
  })

  it('refuses a value that contains an alias of itself', () => {
    const issues = issuesOf('version: 1\nwaves: &w [{ name: a }, *w]\n')
    expect(issues[0]).toMatchObject({ code: 'TANDEM_ERR_CONFIG_ALIAS', line: 2 })
  })

  it('accepts ordinary anchors and locates an error inside an aliased value at its anchor', () => {
    const ok = parseConfig(
      `version: 1\nsystems:${SYSTEM}\n    health: &h { interval: 3s }\n` +
        `${SYSTEM.replace('todo-api', 'b')}\n    health: *h\n`,
    )
    expect(ok.systems[1]!.health.interval).toBe(3000)
    const issues = issuesOf(
      `version: 1\nsystems:${SYSTEM}\n    health: &h { interval: often }\n` +
        `${SYSTEM.replace('todo-api', 'b')}\n    health: *h\n`,
    )
    expect(issues.map((i) => [i.code, i.line])).toEqual([['TANDEM_ERR_CONFIG_DURATION', 7]])
  })

  it('reports a duplicate key with its position', () => {
    const error = errorOf('version: 1\nstore: sqlite:a.db\nstore: sqlite:b.db\n')
    expect(error.code).toBe('TANDEM_ERR_CONFIG_PARSE')
    expect((error.details as ConfigIssue[])[0]).toMatchObject({ code: 'TANDEM_ERR_CONFIG_PARSE', line: 3, column: 1 })
    expect(error.message).toContain('"store" appears more than once')
  })

  it('refuses values nested deeper than the limit, however deep, with a coded error', () => {
    for (const depth of [YAML_LIMITS.maxDepth + 5, 5_000]) {
      const error = errorOf(`version: 1\nx: ${'['.repeat(depth)}${']'.repeat(depth)}\n`)
      expect(error.code).toBe('TANDEM_ERR_CONFIG_PARSE')
      expect(error.message).toContain('levels deep')
    }
  })

  it('refuses a config file over the size limit before reading it, and config text over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-config-'))
    try {
      const file = join(dir, 'tandem.yaml')
      const text = `version: 1\n${'#'.repeat(YAML_LIMITS.maxBytes)}\n`
      writeFileSync(file, text)
      await expect(loadConfig(file, {})).rejects.toMatchObject({ code: 'TANDEM_ERR_CONFIG_TOO_LARGE' })
      expect(errorOf(text).code).toBe('TANDEM_ERR_CONFIG_TOO_LARGE')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
