// The one definition of tandem.yaml (SPEC 2): the validator, the typed Config and the published
// JSON Schema (scripts/write-schema.ts) all come from here.
import { z } from 'zod'
import { durationSchema, httpUrl, issue, positiveDuration, sizeSchema } from './primitives.js'
import { HOOK_KINDS } from '../domain/hooks.js'
import { checklistSchema, hooksSchema } from './checklist-schema.js'
import { programSchema } from './program-schema.js'
import { analysisSchema, defaultSteps, rolloutSchema } from './rollout-schema.js'
import { checkKindKeys, datastoreSchema, eventsSchema } from './moves-schema.js'

export { durationSchema, sizeSchema, thresholdSchema } from './primitives.js'
export type { RolloutStep } from './rollout-schema.js'

const listenSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port such as 127.0.0.1:8080')

export const targetSchema = z
  .strictObject({
    url: httpUrl,
    secondary: httpUrl.optional().describe('A second legacy instance used for noise detection'),
    headers: z.record(z.string(), z.string()).default({}),
    host: z.enum(['keep', 'target']).default('keep').describe('keep the client Host header or use the target host'),
    protocol: z
      .enum(['http1', 'h2c', 'h2'])
      .optional()
      .describe(
        'how Tandem talks to the target: http1, h2c (HTTP/2 cleartext) or h2 (HTTP/2 over TLS); default http1 for ' +
          'http://, ALPN for https://',
      ),
    tls: z
      .strictObject({
        ca: z
          .string()
          .min(1)
          .optional()
          .describe('PEM file of the CA that signed the target certificate (private CAs)'),
        insecure: z
          .boolean()
          .default(false)
          .describe('accept any certificate (tests only: the connection is not authenticated)'),
      })
      .optional()
      .describe('TLS settings for an https:// target'),
  })
  .superRefine((target, ctx) => {
    const secure = target.url.startsWith('https:')
    if ((target.protocol === 'h2' && !secure) || (target.protocol === 'h2c' && secure)) {
      const detail =
        target.protocol === 'h2'
          ? '`protocol: h2` needs an https:// URL (use h2c for cleartext)'
          : '`protocol: h2c` needs an http:// URL (use h2 over TLS)'
      issue(ctx, 'TANDEM_ERR_CONFIG_TYPE', { detail }, ['protocol'])
    }
    if (target.tls !== undefined && !secure)
      issue(ctx, 'TANDEM_ERR_CONFIG_TYPE', { detail: '`tls` applies to https:// targets only' }, ['tls'])
  })

const httpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

export const routeSchema = z.strictObject({
  path: z.string().regex(/^\//, 'a route path starts with /'),
  methods: z.array(httpMethod).min(1).optional().describe('default: every method'),
})

const shadowSchema = z.strictObject({
  sample: z.number().min(0).max(1).default(1),
  secondarySample: z.number().min(0).max(1).default(1),
  unsafeMethods: z.boolean().default(false),
  maxBodyBytes: sizeSchema.prefault('1MiB'),
  timeout: durationSchema.prefault('2s'),
  maxInFlight: z.number().int().min(1).default(256),
})

const compareSchema = z.strictObject({
  ignore: z.array(z.string()).default(['/meta/requestId', '**/updatedAt']),
  unordered: z.array(z.string()).default([]),
  keyedArrays: z.record(z.string(), z.string()).default({}),
  numericTolerance: z.number().min(0).default(0),
  headers: z.array(z.string()).default(['content-type']),
  noise: z
    .strictObject({ relative: z.number().min(0).default(0.2), absolute: z.number().min(0).default(0.0003) })
    .prefault({}),
  samplesPerField: z.number().int().min(0).default(5),
  redact: z
    .array(
      z
        .string()
        .regex(
          /^(headers\.\S+|query\.\S+|[/*].*)$/,
          'expected headers.NAME, query.NAME or a JSON Pointer glob such as /password or **/token',
        ),
    )
    .default(['headers.authorization', 'headers.cookie', 'headers.set-cookie', '/password'])
    .describe(
      'Masked in stored samples: headers.NAME, query.NAME (a request query parameter) or a body JSON Pointer glob. ' +
        'Always masked besides: the authorization, cookie, set-cookie and x-api-key headers and query parameters ' +
        'named like secrets (token, key, secret, password, signature ...)',
    ),
})

const healthSchema = z.strictObject({
  path: z.string().regex(/^\//).default('/health'),
  interval: durationSchema.prefault('5s'),
  timeout: durationSchema.prefault('2s'),
})

/** gRPC status names, for `grpc.errorCodes`. */
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const

const grpcSchema = z
  .strictObject({
    protos: z
      .array(z.string().min(1))
      .default([])
      .describe('.proto files with the services and message types (paths from the working directory)'),
    includeDirs: z
      .array(z.string().min(1))
      .default([])
      .describe('directories searched for imports of the .proto files'),
    errorCodes: z
      .array(z.enum(GRPC_STATUS_NAMES))
      .default(['UNKNOWN', 'DEADLINE_EXCEEDED', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS'])
      .describe('grpc-status values counted as errors in metrics (besides transport failures)'),
    reflection: z
      .boolean()
      .default(false)
      .describe(
        'ask legacy for the message types by gRPC server reflection (instead of grpc.protos); retried in the ' +
          'background while legacy does not answer',
      ),
  })
  .superRefine((grpc, ctx) => {
    if (grpc.reflection && grpc.protos.length > 0) {
      const detail = 'give either `grpc.protos` or `grpc.reflection: true`, not both'
      issue(ctx, 'TANDEM_ERR_CONFIG_TYPE', { detail }, ['reflection'])
    }
  })

/** The keys a system may inherit from `defaults`. */
const systemBody = {
  kind: z
    .enum(['http', 'code', 'datastore', 'events'])
    .default('http')
    .describe('code: a flag served over OFREP to the application (SPEC 12)'),
  protocol: z
    .enum(['http', 'grpc'])
    .default('http')
    .describe('grpc: routes are /package.Service/Method, calls go over HTTP/2 with trailers'),
  grpc: grpcSchema.prefault({}),
  category: z.string().default('uncategorized'),
  priority: z.enum(['P0', 'P1', 'P2', 'P3', 'P4']).default('P2'),
  wave: z.string().optional(),
  dependsOn: z.array(z.string()).default([]),
  legacy: targetSchema.optional(),
  candidate: targetSchema.optional(),
  routes: z.array(routeSchema).default([]),
  datastore: datastoreSchema.optional().describe('kind: datastore: the two databases and the tables verified'),
  events: eventsSchema.optional().describe('kind: events: the two streams and the message id verified'),
  shadow: shadowSchema.prefault({}),
  compare: compareSchema.prefault({}),
  rollout: rolloutSchema.prefault({}),
  analysis: analysisSchema.prefault({}),
  health: healthSchema.prefault({}),
  checklist: checklistSchema.prefault({}),
  hooks: hooksSchema.prefault({}),
}

export const systemSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9-]+$/, 'a system name uses only a-z, 0-9 and -'),
    ...systemBody,
  })
  .superRefine((system, ctx) => {
    checkKindKeys(system, ctx)
    if (system.kind !== 'http') return
    if (system.legacy === undefined)
      issue(ctx, 'TANDEM_ERR_CONFIG_REQUIRED', { detail: '`legacy: { url }`, which an http system needs' }, ['legacy'])
    if (system.candidate === undefined) {
      issue(ctx, 'TANDEM_ERR_CONFIG_REQUIRED', { detail: '`candidate: { url }`, which an http system needs' }, [
        'candidate',
      ])
    }
    if (system.routes.length === 0) {
      issue(
        ctx,
        'TANDEM_ERR_CONFIG_REQUIRED',
        { detail: 'at least one route, which an http system needs, e.g. `routes: [{ path: /** }]`' },
        ['routes'],
      )
    }
  })
  .transform((system) => ({
    ...system,
    rollout: { ...system.rollout, steps: system.rollout.steps ?? defaultSteps(system.rollout.strategy) },
  }))

/** `defaults` accepts any system key except the name; it is merged under every system before validation. */
export const defaultsSchema = z.strictObject(systemBody).partial()

const waveSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/, 'a wave name uses only a-z, 0-9 and -'),
  systems: z
    .strictObject({
      priority: z.array(z.enum(['P0', 'P1', 'P2', 'P3', 'P4'])).optional(),
      category: z.array(z.string()).optional(),
      names: z.array(z.string()).optional(),
    })
    .default({}),
  rollback: z.enum(['easy', 'feasible', 'difficult', 'forward-only']).default('easy'),
  maxConcurrent: z.number().int().min(1).default(5),
  duration: durationSchema
    .optional()
    .describe('planned length of the wave (e.g. 3d); the report shows planned against actual'),
})

const tokenSchema = z.strictObject({
  name: z.string().min(1),
  role: z
    .enum(['flags', 'viewer', 'operator', 'admin'])
    .describe('flags: evaluates flags (OFREP) and reports adapter observations only'),
  token: z.string().min(16, 'a token has at least 16 characters'),
})

const notificationSchema = z
  .strictObject({
    name: z.string().optional(),
    webhook: httpUrl.optional(),
    command: z.string().optional(),
    headers: z.record(z.string(), z.string()).default({}),
    on: z.array(z.enum(HOOK_KINDS)).default(['promoted', 'rollback', 'emergency']),
    timeout: durationSchema.prefault('10s'),
  })
  .superRefine((n, ctx) => {
    if ((n.webhook === undefined) === (n.command === undefined)) {
      issue(ctx, 'TANDEM_ERR_CONFIG_TYPE', {
        detail: 'a notification has exactly one of `webhook: URL` or `command: SHELL`',
      })
    }
  })

export const configSchema = z.strictObject({
  version: z.literal(1),
  gateway: z
    .strictObject({
      listen: listenSchema.default('127.0.0.1:8080'),
      fallback: z
        .union([httpUrl, targetSchema])
        .transform((v) => (typeof v === 'string' ? targetSchema.parse({ url: v }) : v))
        .optional()
        .describe('where unmatched requests go (strangler fig): a URL or a target; unset: 404'),
      upstreamTimeout: durationSchema.prefault('30s'),
      connections: z.number().int().min(1).default(128).describe('keep-alive connections per upstream'),
      maxHeaderSize: sizeSchema.prefault('16KiB'),
      headersTimeout: positiveDuration
        .prefault('20s')
        .describe(
          'how long a client connection may take to send a request line and headers; a silent connection is ' +
            'answered 408 and closed',
        ),
      idleTimeout: positiveDuration
        .prefault('5s')
        .describe('how long an idle keep-alive client connection stays open between requests'),
      maxConnections: z
        .number()
        .int()
        .min(1)
        .default(8192)
        .describe('client connections the gateway listener accepts at once; more are closed on arrival'),
      tls: z
        .strictObject({
          cert: z.string().min(1).describe('PEM file with the certificate chain'),
          key: z.string().min(1).describe('PEM file with the private key'),
        })
        .optional()
        .describe('serve HTTPS (ALPN h2 and http/1.1) with these files, re-read on reload'),
    })
    .prefault({}),
  admin: z
    .strictObject({ listen: listenSchema.default('127.0.0.1:8081'), tokens: z.array(tokenSchema).default([]) })
    .prefault({}),
  store: z.string().default('sqlite:.tandem/tandem.db'),
  metrics: z
    .strictObject({
      retention: positiveDuration
        .prefault('1h')
        .describe("how long every instance's per-second metrics stay in the store (older seconds are pruned)"),
    })
    .prefault({}),
  defaults: defaultsSchema.optional(),
  systems: z.array(systemSchema).default([]),
  waves: z.array(waveSchema).default([]),
  notifications: z.array(notificationSchema).default([]),
  program: programSchema.prefault({}),
})

type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T

export type Config = DeepReadonly<z.output<typeof configSchema>>
export type SystemConfig = Config['systems'][number]
export type TargetConfig = NonNullable<SystemConfig['legacy']>
export type WaveConfig = Config['waves'][number]
export type HookConfig = NonNullable<SystemConfig['hooks']['step']>[number]
export type CheckConfig = NonNullable<SystemConfig['checklist']['backup']>
export type ProgramConfig = Config['program']
export type Role = Config['admin']['tokens'][number]['role']
