// The test kit's config builder: typed tandem.yaml documents (systems, waves, tokens, store) with loopback
// defaults and per-test overrides, rendered as YAML text, written to a file or parsed into a Config.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import type { z } from 'zod'
import { parseConfig } from '../../src/config/load.js'
import type { Config, configSchema } from '../../src/config/schema.js'

/** A tandem.yaml document as a user writes it (durations and thresholds as text), typed by the schema. */
export type ConfigInput = z.input<typeof configSchema>
export type SystemInput = NonNullable<ConfigInput['systems']>[number]
export type WaveInput = NonNullable<ConfigInput['waves']>[number]
export type TokenInput = NonNullable<NonNullable<ConfigInput['admin']>['tokens']>[number]

/** An address nothing listens on: for systems whose upstreams a test never calls. */
export const NOWHERE = 'http://127.0.0.1:9'

type SystemOverrides = Omit<SystemInput, 'name' | 'legacy' | 'candidate'> & {
  /** A URL or a full target; default NOWHERE. */
  legacy?: string | SystemInput['legacy']
  /** A URL or a full target; default the legacy URL. */
  candidate?: string | SystemInput['candidate']
}

/** One http system on every path (`routes: [{ path: /** }]`) unless the overrides say otherwise. */
export function system(name: string, overrides: SystemOverrides = {}): SystemInput {
  const { legacy = NOWHERE, candidate, ...rest } = overrides
  const legacyTarget = typeof legacy === 'string' ? { url: legacy } : legacy
  const candidateTarget =
    candidate === undefined ? legacyTarget : typeof candidate === 'string' ? { url: candidate } : candidate
  return { name, legacy: legacyTarget, candidate: candidateTarget, routes: [{ path: '/**' }], ...rest }
}

export interface ConfigOptions extends Omit<ConfigInput, 'version' | 'store'> {
  /** The store URL; default a SQLite file tandem.db in `dir`, else the schema's default. */
  store?: string
  /** A directory of the test's own, for the default SQLite store. */
  dir?: string
  /** Shorthand for admin.tokens. */
  tokens?: TokenInput[]
}

/**
 * A tandem.yaml document: version 1, gateway and admin on 127.0.0.1 port 0, the store in `dir`, and the
 * given systems, waves, tokens and any other top-level key.
 */
export function tandemConfig(options: ConfigOptions = {}): ConfigInput {
  const { dir, store, tokens, gateway, admin, ...rest } = options
  const storeUrl = store ?? (dir === undefined ? undefined : `sqlite:${join(dir, 'tandem.db')}`)
  return {
    version: 1,
    gateway: { listen: '127.0.0.1:0', ...gateway },
    admin: { listen: '127.0.0.1:0', ...admin, ...(tokens === undefined ? {} : { tokens }) },
    ...(storeUrl === undefined ? {} : { store: storeUrl }),
    ...rest,
  }
}

/**
 * A document (or a part of one, `T`) the schema refuses on purpose, such as one with an unknown key: the
 * builder's types would not let a test write it, which is the point of the test.
 */
export function invalidConfig<T = ConfigInput>(value: object): T {
  return value as T
}

/** The YAML text of a document, one key a line, no folding of long strings. */
export function toYaml(document: ConfigInput): string {
  return stringify(document, { lineWidth: 0, aliasDuplicateObjects: false })
}

/** Write the document (or ready text) to `dir`/`name` and return the file's path. */
export function writeConfig(dir: string, document: ConfigInput | string, name = 'tandem.yaml'): string {
  const file = join(dir, name)
  writeFileSync(file, typeof document === 'string' ? document : toYaml(document))
  return file
}

/** The validated, frozen Config of a document, as `tandem` would load it. */
export function buildConfig(document: ConfigInput): Config {
  return parseConfig(toYaml(document))
}

/** The 1-based line of the first line of `text` containing `needle`: for located-error assertions. */
export function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(needle))
  if (index < 0) throw new Error(`"${needle}" is not in the document`)
  return index + 1
}

/** Rollout tests judge every 200 ms on `minSamples` and check health every 200 ms, to end in seconds. */
export function fastAnalysis(
  minSamples: number,
  analysis: SystemInput['analysis'] = {},
): Pick<SystemInput, 'analysis' | 'health'> {
  return { health: { interval: '200ms' }, analysis: { interval: '200ms', minSamples, ...analysis } }
}

type Steps = NonNullable<SystemInput['rollout']>['steps']
/** Half the traffic for a minute, then all of it. */
export const HALF_CANARY: Steps = [{ weight: 50, pause: '1m' }, { weight: 100 }]

/** A system the controller judges fast (fastAnalysis(20)) through HALF_CANARY, unless overridden. */
export function fastCanary(
  name: string,
  legacy: string,
  candidate: string,
  overrides: SystemOverrides = {},
): SystemInput {
  return system(name, { legacy, candidate, rollout: { steps: HALF_CANARY }, ...fastAnalysis(20), ...overrides })
}
