// Loads tandem.yaml into one validated, frozen Config. Every problem is reported with the file, line,
// column, key path and a stable TANDEM_ERR_* code; nothing past this module sees raw YAML or env.
import { readFile, stat } from 'node:fs/promises'
import type { Node } from 'yaml'
import type { z } from 'zod'
import { ERRORS, formatMessage, TandemError, type ErrorCode } from '../errors.js'
import { configSchema, type Config } from './schema.js'
import { readYaml, YAML_LIMITS, type Path, type YamlText } from './yaml-document.js'

export interface ConfigIssue {
  readonly code: ErrorCode
  readonly message: string
  readonly file: string
  readonly line: number
  readonly column: number
  /** Key path such as `systems[0].rollout.steps[1].pause`. */
  readonly path: string
  /** On the last entry of a capped list (TANDEM_ERR_CONFIG_TOO_MANY_ERRORS): how many were left out. */
  readonly more?: number
}

/** How many issues a (possibly capped) list stands for. */
export function issueCount(issues: readonly ConfigIssue[]): number {
  return issues.reduce((n, i) => n + (i.more ?? 1), 0)
}

export function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.column} ${i.path === '' ? '(top level)' : i.path}: ${i.message} [${i.code}]`
}

/** Issues listed in full; the rest are counted in one last TANDEM_ERR_CONFIG_TOO_MANY_ERRORS entry. */
export const MAX_ISSUES = 100

/** Why a config was refused, as plain data (it crosses from the reload worker to the main thread). */
export interface ConfigFailure {
  readonly code: ErrorCode
  readonly params: Record<string, unknown>
  readonly issues: readonly ConfigIssue[]
}

export type ConfigOutcome =
  { readonly ok: true; readonly config: Config } | { readonly ok: false; readonly failure: ConfigFailure }

export function failureError(f: ConfigFailure): TandemError {
  return new TandemError(f.code, f.params, f.issues.length > 0 ? { details: f.issues } : {})
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const outcome = await checkConfigFile(file, env)
  if (!outcome.ok) throw failureError(outcome.failure)
  return deepFreeze(outcome.config)
}

/**
 * Parse and validate config text; throws TandemError(TANDEM_ERR_CONFIG_PARSE|INVALID|TOO_LARGE) with located issues.
 */
export function parseConfig(text: string, file = 'tandem.yaml', env: NodeJS.ProcessEnv = process.env): Config {
  const outcome = checkConfigText(text, file, env)
  if (!outcome.ok) throw failureError(outcome.failure)
  return deepFreeze(outcome.config)
}

/** Read and validate a config file; the result is not frozen (freeze it where it is used). */
export async function checkConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ConfigOutcome> {
  let text: string
  try {
    // Refuse an oversized file before reading it into memory.
    const { size } = await stat(file)
    if (size > YAML_LIMITS.maxBytes) return { ok: false, failure: tooLarge(file, size) }
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { ok: false, failure: { code: 'TANDEM_ERR_CONFIG_NOT_FOUND', params: { file }, issues: [] } }
    throw error
  }
  return checkConfigText(text, file, env)
}

const MiB = 1024 * 1024
function tooLarge(file: string, bytes: number): ConfigFailure {
  const detail = `it has ${(bytes / MiB).toFixed(1)} MiB, over the limit of ${YAML_LIMITS.maxBytes / MiB} MiB`
  return { code: 'TANDEM_ERR_CONFIG_TOO_LARGE', params: { file, detail }, issues: [] }
}

export function checkConfigText(
  text: string,
  file = 'tandem.yaml',
  env: NodeJS.ProcessEnv = process.env,
): ConfigOutcome {
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > YAML_LIMITS.maxBytes) return { ok: false, failure: tooLarge(file, bytes) }
  const yaml = readYaml(text, MAX_ISSUES + 1)
  if (yaml.problems.length > 0) {
    const issues = yaml.problems.map((p): ConfigIssue => {
      const { line, column } = yaml.position(p.offset)
      // A syntax error's detail is its message; the registry's advice is added once, to the whole error.
      const message = p.code === 'TANDEM_ERR_CONFIG_PARSE' ? String(p.params.detail) : messageOf(p.code, p.params)
      return { code: p.code, message, file, line, column, path: '' }
    })
    return {
      ok: false,
      failure: {
        code: 'TANDEM_ERR_CONFIG_PARSE',
        params: { detail: formatIssue(issues[0]!) },
        issues: capped(issues, issues.length),
      },
    }
  }

  const locate = (path: Path, code: ErrorCode, message: string): ConfigIssue => {
    const node = findNode(yaml, path)
    const { line, column } = node?.range ? yaml.position(node.range[0]) : { line: 1, column: 1 }
    return { code, message, file, line, column, path: formatPath(path) }
  }

  const raw = (yaml.value ?? {}) as Record<string, unknown>
  const issues: ConfigIssue[] = []
  const resolved = resolveEnv(raw, [], env, (path, name) =>
    issues.push(locate(path, 'TANDEM_ERR_CONFIG_ENV_MISSING', messageOf('TANDEM_ERR_CONFIG_ENV_MISSING', { name }))),
  ) as Record<string, unknown>
  const withDefaults = applyDefaults(resolved)

  const result = configSchema.safeParse(withDefaults)
  if (!result.success) {
    for (const zi of result.error.issues) issues.push(...fromZodIssue(zi, locate, yaml))
  } else {
    issues.push(...crossCheck(result.data as Config, locate))
  }
  // A bad value under `defaults` fails every system that inherits it: report it once, at its place.
  const seen = new Set<string>()
  const unique = issues.filter((i) => {
    const key = `${i.line}:${i.column}:${i.code}:${i.message}`
    return !seen.has(key) && seen.add(key) !== undefined
  })
  if (unique.length > 0) {
    return {
      ok: false,
      failure: {
        code: 'TANDEM_ERR_CONFIG_INVALID',
        params: { count: unique.length, file },
        issues: capped(unique, unique.length),
      },
    }
  }
  return { ok: true, config: result.data as Config }
}

/** The first MAX_ISSUES issues, then one entry saying how many more there are (at the first left out). */
function capped(issues: readonly ConfigIssue[], total: number): readonly ConfigIssue[] {
  if (total <= MAX_ISSUES) return issues
  const next = issues[MAX_ISSUES]!
  const left = total - MAX_ISSUES
  const more = {
    ...next,
    code: 'TANDEM_ERR_CONFIG_TOO_MANY_ERRORS' as const,
    message: messageOf('TANDEM_ERR_CONFIG_TOO_MANY_ERRORS', { more: left }),
    more: left,
  }
  return [...issues.slice(0, MAX_ISSUES), more]
}

const messageOf = (code: ErrorCode, params: Record<string, unknown>): string =>
  formatMessage(ERRORS[code].message, params)

function fromZodIssue(
  zi: z.core.$ZodIssue,
  locate: (p: Path, c: ErrorCode, m: string) => ConfigIssue,
  yaml: YamlText,
): ConfigIssue[] {
  const path = zi.path.filter((p): p is string | number => typeof p !== 'symbol')
  if (zi.code === 'unrecognized_keys') {
    return zi.keys.map((key) =>
      locate([...path, key], 'TANDEM_ERR_CONFIG_UNKNOWN_KEY', messageOf('TANDEM_ERR_CONFIG_UNKNOWN_KEY', { key })),
    )
  }
  if (zi.code === 'custom') {
    const code = (zi.params as { tandemCode?: ErrorCode } | undefined)?.tandemCode ?? 'TANDEM_ERR_CONFIG_TYPE'
    return [locate(path, code, zi.message)]
  }
  if (zi.code === 'invalid_type' && findNode(yaml, path, false) === undefined) {
    return [
      locate(
        path,
        'TANDEM_ERR_CONFIG_REQUIRED',
        messageOf('TANDEM_ERR_CONFIG_REQUIRED', { detail: `a value of type ${zi.expected}` }),
      ),
    ]
  }
  if (zi.code === 'invalid_value' && path.length === 1 && path[0] === 'version') {
    return [
      locate(path, 'TANDEM_ERR_CONFIG_TYPE', messageOf('TANDEM_ERR_CONFIG_TYPE', { detail: 'expected `version: 1`' })),
    ]
  }
  return [
    locate(
      path,
      'TANDEM_ERR_CONFIG_TYPE',
      messageOf('TANDEM_ERR_CONFIG_TYPE', { detail: zi.message.replace(/^Invalid input: /, '') }),
    ),
  ]
}

/** Checks that span several entries: unique names, known waves and systems, no dependency cycle. */
function crossCheck(config: Config, locate: (p: Path, c: ErrorCode, m: string) => ConfigIssue): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const systems = new Map<string, number>()
  config.systems.forEach((s, i) => {
    if (systems.has(s.name)) {
      issues.push(
        locate(
          ['systems', i, 'name'],
          'TANDEM_ERR_CONFIG_DUPLICATE_SYSTEM',
          messageOf('TANDEM_ERR_CONFIG_DUPLICATE_SYSTEM', { name: s.name }),
        ),
      )
    } else systems.set(s.name, i)
  })
  const waves = new Set<string>()
  config.waves.forEach((w, i) => {
    if (waves.has(w.name))
      issues.push(
        locate(
          ['waves', i, 'name'],
          'TANDEM_ERR_CONFIG_TYPE',
          messageOf('TANDEM_ERR_CONFIG_TYPE', {
            detail: `wave name "${w.name}" is used more than once; wave names must be unique`,
          }),
        ),
      )
    waves.add(w.name)
    w.systems.names?.forEach((n, j) => {
      if (!systems.has(n)) {
        issues.push(
          locate(
            ['waves', i, 'systems', 'names', j],
            'TANDEM_ERR_CONFIG_UNKNOWN_SYSTEM',
            messageOf('TANDEM_ERR_CONFIG_UNKNOWN_SYSTEM', { name: n }),
          ),
        )
      }
    })
  })
  config.systems.forEach((s, i) => {
    if (s.wave !== undefined && !waves.has(s.wave)) {
      issues.push(
        locate(
          ['systems', i, 'wave'],
          'TANDEM_ERR_CONFIG_UNKNOWN_WAVE',
          messageOf('TANDEM_ERR_CONFIG_UNKNOWN_WAVE', { name: s.wave }),
        ),
      )
    }
    s.dependsOn.forEach((d, j) => {
      if (!systems.has(d)) {
        issues.push(
          locate(
            ['systems', i, 'dependsOn', j],
            'TANDEM_ERR_CONFIG_UNKNOWN_SYSTEM',
            messageOf('TANDEM_ERR_CONFIG_UNKNOWN_SYSTEM', { name: d }),
          ),
        )
      }
    })
  })
  const cycle = findCycle(config.systems.map((s) => [s.name, s.dependsOn.filter((d) => systems.has(d))] as const))
  if (cycle !== undefined) {
    issues.push(
      locate(
        ['systems', systems.get(cycle[0]!)!, 'dependsOn'],
        'TANDEM_ERR_CONFIG_CYCLE',
        messageOf('TANDEM_ERR_CONFIG_CYCLE', { cycle: cycle.join(' -> ') }),
      ),
    )
  }
  return issues
}

/** The first dependency cycle found, as names with the first repeated at the end. */
export function findCycle(graph: readonly (readonly [string, readonly string[]])[]): string[] | undefined {
  const edges = new Map(graph)
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: string[] = []
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node]
    state.set(node, 'visiting')
    stack.push(node)
    for (const next of edges.get(node) ?? []) {
      const found = visit(next)
      if (found) return found
    }
    stack.pop()
    state.set(node, 'done')
    return undefined
  }
  for (const [name] of graph) {
    const found = visit(name)
    if (found) return found
  }
  return undefined
}

const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/

function resolveEnv(
  value: unknown,
  path: Path,
  env: NodeJS.ProcessEnv,
  missing: (p: Path, name: string) => void,
): unknown {
  if (typeof value === 'string') {
    const m = ENV_REF.exec(value)
    if (m === null) return value
    const found = env[m[1]!]
    if (found === undefined) missing(path, m[1]!)
    return found ?? value
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnv(v, [...path, i], env, missing))
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveEnv(v, [...path, k], env, missing)]))
  }
  return value
}

function applyDefaults(raw: Record<string, unknown>): Record<string, unknown> {
  const defaults = raw.defaults
  if (!isPlainObject(defaults) || !Array.isArray(raw.systems)) return raw
  return { ...raw, systems: raw.systems.map((s: unknown) => (isPlainObject(s) ? deepMerge(defaults, s) : s)) }
}

/** Objects merge key by key; arrays and scalars of `over` replace those of `base`. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v
  }
  return out
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * The YAML node at `path` (for a missing key under a system, the same key under `defaults`); with
 * `nearest`, the deepest existing ancestor, so every issue has a position.
 */
function findNode(yaml: YamlText, path: Path, nearest = true): Node | undefined {
  const direct = yaml.nodeAt(path)
  if (direct.complete) return direct.node
  if (path[0] === 'systems' && path.length > 2) {
    const fromDefaults = yaml.nodeAt(['defaults', ...path.slice(2)])
    if (fromDefaults.complete) return fromDefaults.node
  }
  return nearest ? direct.node : undefined
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
