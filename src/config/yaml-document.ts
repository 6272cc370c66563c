// Reads tandem.yaml text into plain data without letting the text exhaust the process: bounded nesting
// and alias expansion (billion laughs), aliases checked against their anchors, duplicate keys found in
// one pass, and an index that finds the node of any key path in O(depth), so locating N errors is linear.
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Alias,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml'
import type { ErrorCode } from '../errors.js'

export const YAML_LIMITS = {
  /** Larger files are refused before they are read. */
  maxBytes: 4 * 1024 * 1024,
  /** tandem.yaml nests about six levels; deeper documents are not configs. */
  maxDepth: 64,
  /** Values that aliases may add to the document by expansion. */
  maxAliasValues: 100_000,
} as const

const TOO_DEEP = `values nest more than ${YAML_LIMITS.maxDepth} levels deep here; tandem.yaml never needs that many`

export type Path = readonly (string | number)[]

/** A problem of the YAML text itself, before validation. */
export interface YamlProblem {
  readonly code: ErrorCode
  readonly params: Record<string, unknown>
  readonly offset: number
}

export interface YamlText {
  readonly problems: readonly YamlProblem[]
  /** The plain data (only when there are no problems). */
  readonly value: unknown
  /** 1-based line and column of a byte offset. */
  position(offset: number): { line: number; column: number }
  /** The node at `path`; `complete: false` gives the deepest existing ancestor instead. */
  nodeAt(path: Path): { node: Node | undefined; complete: boolean }
}

export function readYaml(text: string, maxProblems: number): YamlText {
  const lineCounter = new LineCounter()
  // yaml's own uniqueKeys check scans every earlier key of a map for each key (quadratic); it is done
  // below with a set per map instead.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false })
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset)
    return line === 0 ? { line: 1, column: offset + 1 } : { line, column: col }
  }
  const problems: YamlProblem[] = doc.errors.slice(0, maxProblems).map((e) => ({
    code: 'TANDEM_ERR_CONFIG_PARSE',
    // yaml reports a document nested beyond the stack as a stack overflow at the place it gave up.
    params: { detail: e.message.includes('call stack') ? TOO_DEEP : e.message.split('\n')[0]! },
    offset: e.pos[0],
  }))
  const aliasTargets = new Map<Alias, Node>()
  if (problems.length === 0) problems.push(...checkStructure(doc, aliasTargets, maxProblems))
  let value: unknown
  if (problems.length === 0) {
    try {
      // The structure check bounds expansion already; yaml's own limit stays on as a second guard.
      value = doc.toJS({ maxAliasCount: YAML_LIMITS.maxAliasValues })
    } catch (error) {
      problems.push({ code: 'TANDEM_ERR_CONFIG_PARSE', params: { detail: (error as Error).message }, offset: 0 })
    }
  }
  const index = new WeakMap<YAMLMap, Map<string, Pair>>()
  const pairOf = (map: YAMLMap, key: string | number): Pair | undefined => {
    let keys = index.get(map)
    if (keys === undefined) {
      keys = new Map()
      // The first of duplicate keys wins, as in toJS.
      for (const p of map.items) if (isScalar(p.key) && !keys.has(String(p.key.value))) keys.set(String(p.key.value), p)
      index.set(map, keys)
    }
    return keys.get(String(key))
  }
  const follow = (n: Node | undefined): Node | undefined =>
    n !== undefined && isAlias(n) ? (aliasTargets.get(n) ?? n) : n
  const nodeAt = (path: Path) => {
    let node = follow((doc.contents as Node | null) ?? undefined)
    for (const key of path) {
      let next: Node | undefined
      if (isMap(node)) {
        const pair = pairOf(node, key)
        // Point at the value, or at the key when the value is empty.
        next = pair ? ((pair.value as Node | null) ?? (pair.key as Node)) : undefined
      } else if (isSeq(node) && typeof key === 'number') {
        next = node.items[key] as Node | undefined
      }
      if (next === undefined) return { node, complete: false }
      node = follow(next)
    }
    return { node, complete: true }
  }
  return { problems, value, position, nodeAt }
}

/**
 * One pass in document order: duplicate keys, nesting depth, aliases that come before their anchor or
 * inside it, and the number of values aliases expand to. Fills `aliasTargets` for locating.
 */
function checkStructure(doc: Document, aliasTargets: Map<Alias, Node>, maxProblems: number): YamlProblem[] {
  const problems: YamlProblem[] = []
  // Expanded size of each anchored node; undefined while the node itself is being visited.
  const anchors = new Map<string, { node: Node; size: number | undefined }>()
  let aliasValues = 0
  let abort = false
  const offsetOf = (n: unknown) => (n as Node | null)?.range?.[0] ?? 0
  const add = (p: YamlProblem) => {
    if (problems.length < maxProblems) problems.push(p)
  }

  const visit = (node: unknown, depth: number): number => {
    if (abort || node === null || node === undefined) return 1
    if (depth > YAML_LIMITS.maxDepth) {
      add({ code: 'TANDEM_ERR_CONFIG_PARSE', params: { detail: TOO_DEEP }, offset: offsetOf(node) })
      abort = true
      return 1
    }
    if (isAlias(node)) {
      const anchor = anchors.get(node.source)
      if (anchor === undefined) {
        add({
          code: 'TANDEM_ERR_CONFIG_ALIAS',
          params: {
            detail:
              `alias *${node.source} comes before its anchor &${node.source} (or there is none); define the anchor ` +
              `above its first use`,
          },
          offset: offsetOf(node),
        })
        return 1
      }
      if (anchor.size === undefined) {
        add({
          code: 'TANDEM_ERR_CONFIG_ALIAS',
          params: {
            detail:
              `alias *${node.source} is inside the value it names, so that value would contain itself; remove the ` +
              `alias`,
          },
          offset: offsetOf(node),
        })
        return 1
      }
      aliasTargets.set(node, anchor.node)
      aliasValues += anchor.size
      if (aliasValues > YAML_LIMITS.maxAliasValues) {
        add({
          code: 'TANDEM_ERR_CONFIG_ALIAS',
          params: {
            detail:
              `aliases expand to more than ${YAML_LIMITS.maxAliasValues} values by here (an alias bomb?); write ` +
              `the values out or alias less`,
          },
          offset: offsetOf(node),
        })
        abort = true
      }
      return anchor.size
    }
    const n = node as Node
    const entry = n.anchor ? { node: n, size: undefined as number | undefined } : undefined
    if (entry !== undefined) anchors.set(n.anchor!, entry)
    let size = 1
    if (isMap(n)) {
      const seen = new Set<unknown>()
      for (const pair of n.items) {
        if (isScalar(pair.key)) {
          if (seen.has(pair.key.value)) {
            add({
              code: 'TANDEM_ERR_CONFIG_PARSE',
              params: { detail: `key "${String(pair.key.value)}" appears more than once in this mapping; keep one` },
              offset: offsetOf(pair.key),
            })
          }
          seen.add(pair.key.value)
        }
        size += visit(pair.key, depth + 1) + visit(pair.value, depth + 1)
      }
    } else if (isSeq(n)) {
      for (const item of n.items) size += visit(item, depth + 1)
    }
    if (entry !== undefined) entry.size = size
    return size
  }
  visit(doc.contents, 0)
  return problems
}
