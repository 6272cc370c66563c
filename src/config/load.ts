// Loads tandem.yaml into one validated, frozen Config. Every problem is reported with the file, line,
// column, key path and a stable TANDEM_ERR_* code; nothing past this module sees raw YAML or env.
import { readFile } from 'node:fs/promises'
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import type { z } from 'zod'
import { TandemError, type ErrorCode } from '../errors.js'
import { configSchema, type Config } from './schema.js'

export interface ConfigIssue {
  readonly code: ErrorCode
  readonly message: string
  readonly file: string
  readonly line: number
  readonly column: number
  /** Key path such as `systems[0].rollout.steps[1].pause`. */
  readonly path: string
}

type Path = readonly (string | number)[]

export function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.column} ${i.path === '' ? '(top level)' : i.path}: ${i.message} [${i.code}]`
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new TandemError('TANDEM_ERR_CONFIG_NOT_FOUND', { file })
    throw error
  }
  return parseConfig(text, file, env)
}

/** Parse and validate config text; throws TandemError(TANDEM_ERR_CONFIG_PARSE|INVALID) with located issues. */
export function parseConfig(text: string, file = 'tandem.yaml', env: NodeJS.ProcessEnv = process.env): Config {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const at = (offset: number) => lineCounter.linePos(offset)

  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e): ConfigIssue => {
      const { line, col } = at(e.pos[0])
      return { code: 'TANDEM_ERR_CONFIG_PARSE', message: e.message.split('\n')[0]!, file, line, column: col, path: '' }
    })
    throw new TandemError('TANDEM_ERR_CONFIG_PARSE', { detail: formatIssue(issues[0]!) }, { details: issues })
  }

  const locate = (path: Path, code: ErrorCode, message: string): ConfigIssue => {
    const node = findNode(doc, path)
    const { line, col } = node?.range ? at(node.range[0]) : { line: 1, col: 1 }
    return { code, message, file, line, column: col, path: formatPath(path) }
  }

  const raw = (doc.toJS() ?? {}) as Record<string, unknown>
  const issues: ConfigIssue[] = []
  const resolved = resolveEnv(raw, [], env, (path, name) =>
    issues.push(locate(path, 'TANDEM_ERR_CONFIG_ENV_MISSING', `environment variable ${name} is not set (referenced as env:${name}); export it before starting`)),
  ) as Record<string, unknown>
  const withDefaults = applyDefaults(resolved)

  const result = configSchema.safeParse(withDefaults)
  if (!result.success) {
    for (const zi of result.error.issues) issues.push(...fromZodIssue(zi, locate, doc))
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
    throw new TandemError('TANDEM_ERR_CONFIG_INVALID', { count: unique.length, file }, { details: unique })
  }
  return deepFreeze(result.data as Config)
}

function fromZodIssue(zi: z.core.$ZodIssue, locate: (p: Path, c: ErrorCode, m: string) => ConfigIssue, doc: Document): ConfigIssue[] {
  const path = zi.path.filter((p): p is string | number => typeof p !== 'symbol')
  if (zi.code === 'unrecognized_keys') {
    return zi.keys.map((key) => locate([...path, key], 'TANDEM_ERR_CONFIG_UNKNOWN_KEY', `unknown key "${key}"; remove it or check its spelling`))
  }
  if (zi.code === 'custom') {
    const code = (zi.params as { tandemCode?: ErrorCode } | undefined)?.tandemCode ?? 'TANDEM_ERR_CONFIG_TYPE'
    return [locate(path, code, zi.message)]
  }
  if (zi.code === 'invalid_type' && findNode(doc, path, false) === undefined) {
    return [locate(path, 'TANDEM_ERR_CONFIG_REQUIRED', `required key is missing (expected ${zi.expected})`)]
  }
  if (zi.code === 'invalid_value' && path.length === 1 && path[0] === 'version') {
    return [locate(path, 'TANDEM_ERR_CONFIG_TYPE', 'expected `version: 1`')]
  }
  return [locate(path, 'TANDEM_ERR_CONFIG_TYPE', zi.message.replace(/^Invalid input: /, ''))]
}

/** Checks that span several entries: unique names, known waves and systems, no dependency cycle. */
function crossCheck(config: Config, locate: (p: Path, c: ErrorCode, m: string) => ConfigIssue): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const systems = new Map<string, number>()
  config.systems.forEach((s, i) => {
    if (systems.has(s.name)) {
      issues.push(locate(['systems', i, 'name'], 'TANDEM_ERR_CONFIG_DUPLICATE_SYSTEM', `system name "${s.name}" is used more than once; system names must be unique`))
    } else systems.set(s.name, i)
  })
  const waves = new Set<string>()
  config.waves.forEach((w, i) => {
    if (waves.has(w.name)) issues.push(locate(['waves', i, 'name'], 'TANDEM_ERR_CONFIG_TYPE', `wave name "${w.name}" is used more than once`))
    waves.add(w.name)
    w.systems.names?.forEach((n, j) => {
      if (!systems.has(n)) {
        issues.push(locate(['waves', i, 'systems', 'names', j], 'TANDEM_ERR_CONFIG_UNKNOWN_SYSTEM', `system "${n}" is not declared under \`systems\`; declare it or fix the name`))
      }
    })
  })
  config.systems.forEach((s, i) => {
    if (s.wave !== undefined && !waves.has(s.wave)) {
      issues.push(locate(['systems', i, 'wave'], 'TANDEM_ERR_CONFIG_UNKNOWN_WAVE', `wave "${s.wave}" is not declared under \`waves\`; declare it or fix the name`))
    }
    s.dependsOn.forEach((d, j) => {
      if (!systems.has(d)) {
        issues.push(locate(['systems', i, 'dependsOn', j], 'TANDEM_ERR_CONFIG_UNKNOWN_SYSTEM', `system "${d}" is not declared under \`systems\`; declare it or fix the name`))
      }
    })
  })
  const cycle = findCycle(config.systems.map((s) => [s.name, s.dependsOn.filter((d) => systems.has(d))] as const))
  if (cycle !== undefined) {
    issues.push(locate(['systems', systems.get(cycle[0]!)!, 'dependsOn'], 'TANDEM_ERR_CONFIG_CYCLE', `dependsOn forms a cycle: ${cycle.join(' -> ')}; remove one of these dependencies`))
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

function resolveEnv(value: unknown, path: Path, env: NodeJS.ProcessEnv, missing: (p: Path, name: string) => void): unknown {
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
function findNode(doc: Document, path: Path, nearest = true): Node | undefined {
  const direct = walk(doc.contents as Node | null, path)
  if (direct.complete) return direct.node
  if (path[0] === 'systems' && path.length > 2) {
    const fromDefaults = walk(doc.contents as Node | null, ['defaults', ...path.slice(2)])
    if (fromDefaults.complete) return fromDefaults.node
  }
  return nearest ? direct.node : undefined
}

function walk(root: Node | null, path: Path): { node: Node | undefined; complete: boolean } {
  let node: Node | undefined = root ?? undefined
  for (const key of path) {
    let next: Node | undefined
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key)
      // Point at the value, or at the key when the value is empty.
      next = pair ? ((pair.value as Node | null) ?? (pair.key as Node)) : undefined
    } else if (isSeq(node) && typeof key === 'number') {
      next = node.items[key] as Node | undefined
    }
    if (next === undefined) return { node, complete: false }
    node = next
  }
  return { node, complete: true }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
