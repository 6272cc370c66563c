// JSON schemas of the admin API's requests and responses: fastify validates and serialises with them,
// and @fastify/swagger turns them into /api/v1/openapi.json, so the document cannot drift from the code.
import { ARMS, STAGES } from '../domain/stages.js'
import { OPERATOR_ACTIONS } from '../rollout/control.js'

const nullableString = { type: ['string', 'null'] } as const
const nullableNumber = { type: ['number', 'null'] } as const
/** Free-form JSON (evidence, samples): serialised as is. */
const anyJson = {} as const

export const errorSchema = {
  $id: 'TandemError',
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, details: anyJson },
} as const

const errorRef = { $ref: 'TandemError#' } as const
/** The error answers every authenticated endpoint may give. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorRef> {
  return Object.fromEntries([400, 401, 403, 429, 500, ...statuses].map((s) => [s, errorRef]))
}

export const systemSummarySchema = {
  type: 'object',
  required: [
    'name',
    'kind',
    'category',
    'priority',
    'wave',
    'stage',
    'weight',
    'stepIndex',
    'paused',
    'activeArm',
    'holdReason',
  ],
  properties: {
    name: { type: 'string' },
    kind: { type: 'string', enum: ['http', 'code', 'datastore', 'events'] },
    category: { type: 'string' },
    priority: { type: 'string' },
    wave: nullableString,
    stage: { type: 'string', enum: STAGES },
    weight: { type: 'number' },
    stepIndex: { type: 'integer' },
    paused: { type: 'boolean' },
    activeArm: { type: 'string', enum: ARMS },
    holdReason: nullableString,
    verifiedThrough: { type: ['integer', 'null'], description: 'datastore/events systems: verified-through time (ms)' },
    flagClients: {
      type: 'object',
      description:
        'adapters (SPEC 12) following this system as a flag on this instance, and when each last synced ' +
        '(code systems and any system followed)',
      required: ['count', 'clients'],
      properties: {
        count: { type: 'integer' },
        clients: {
          type: 'array',
          items: {
            type: 'object',
            required: ['id', 'lastSyncAt'],
            properties: { id: { type: 'string' }, lastSyncAt: { type: 'number' } },
          },
        },
      },
    },
  },
} as const

export const stateSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    system: { type: 'string' },
    stage: { type: 'string', enum: STAGES },
    weight: { type: 'number' },
    stepIndex: { type: 'integer' },
    stepStartedAt: nullableNumber,
    paused: { type: 'boolean' },
    activeArm: { type: 'string' },
    startedAt: nullableNumber,
    promotedAt: nullableNumber,
    completedAt: nullableNumber,
    updatedAt: { type: 'number' },
    version: { type: 'integer' },
  },
} as const

export const decisionSchema = {
  type: 'object',
  required: ['id', 'system', 'seq', 'action', 'actor', 'reason', 'fromStage', 'toStage', 'weight', 'stepIndex', 'at'],
  properties: {
    id: { type: 'integer' },
    system: { type: 'string' },
    seq: { type: 'integer' },
    action: { type: 'string' },
    actor: { type: 'string' },
    reason: { type: 'string' },
    fromStage: { type: 'string' },
    toStage: { type: 'string' },
    weight: { type: 'number' },
    stepIndex: { type: 'integer' },
    evidence: anyJson,
    at: { type: 'number' },
    leaseToken: nullableNumber,
  },
} as const

export const verdictSchema = {
  type: 'object',
  required: [
    'id',
    'system',
    'at',
    'stage',
    'stepIndex',
    'weight',
    'verdict',
    'judge',
    'windowStart',
    'windowEnd',
    'evidence',
  ],
  properties: {
    id: { type: 'integer' },
    system: { type: 'string' },
    at: { type: 'number' },
    stage: { type: 'string' },
    stepIndex: { type: 'integer' },
    weight: { type: 'number' },
    verdict: { type: 'string', enum: ['pass', 'fail', 'inconclusive'] },
    judge: { type: 'string' },
    score: nullableNumber,
    windowStart: { type: 'number' },
    windowEnd: { type: 'number' },
    evidence: anyJson,
  },
} as const

export const stepSchema = {
  type: 'object',
  additionalProperties: true,
  properties: { kind: { type: 'string' } },
} as const

export const systemDetailSchema = {
  type: 'object',
  required: [...systemSummarySchema.required, 'steps', 'verdicts', 'decisions'],
  properties: {
    ...systemSummarySchema.properties,
    steps: { type: 'array', items: stepSchema },
    verdicts: { type: 'array', items: verdictSchema },
    decisions: { type: 'array', items: decisionSchema },
  },
} as const

export const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[a-z0-9-]+$' } },
} as const

export const actionParams = {
  type: 'object',
  required: ['name', 'action'],
  properties: { name: nameParams.properties.name, action: { type: 'string', enum: [...OPERATOR_ACTIONS] } },
} as const

export const actionBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { force: { type: 'boolean' }, reason: { type: 'string', maxLength: 2000 } },
} as const

export const actionResponse = {
  type: 'object',
  required: ['system', 'action', 'state', 'decision'],
  properties: { system: { type: 'string' }, action: { type: 'string' }, state: stateSchema, decision: decisionSchema },
} as const

const armMetricsSchema = {
  type: 'object',
  properties: {
    requests: { type: 'number' },
    errors: { type: 'number' },
    successes: { type: 'number' },
    errorRate: nullableNumber,
    p50: nullableNumber,
    p95: nullableNumber,
    p99: nullableNumber,
    mean: nullableNumber,
  },
} as const

export const metricsResponse = {
  type: 'object',
  required: ['system', 'source', 'windows'],
  properties: {
    system: { type: 'string' },
    source: { type: 'string', enum: ['live', 'stored'] },
    windows: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          start: { type: 'number' },
          end: { type: 'number' },
          legacy: armMetricsSchema,
          candidate: armMetricsSchema,
        },
      },
    },
  },
} as const

export const metricsQuery = {
  type: 'object',
  properties: {
    source: { type: 'string', enum: ['live', 'stored'], default: 'live' },
    since: { type: 'integer', minimum: 0, description: 'epoch ms; default: 5 minutes ago' },
    until: { type: 'integer', minimum: 0, description: 'epoch ms; default: now' },
    step: { type: 'integer', minimum: 1000, description: 'bucket size in ms; default: 10000' },
  },
} as const

export const sampleSchema = anyJson

export const diffsResponse = {
  type: 'object',
  required: ['system', 'routes'],
  properties: {
    system: { type: 'string' },
    routes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['route', 'compared', 'matches', 'mismatches', 'skipped', 'fields'],
        properties: {
          route: { type: 'string' },
          compared: { type: 'integer' },
          matches: { type: 'integer' },
          mismatches: { type: 'integer' },
          noiseOnly: { type: 'integer' },
          skipped: { type: 'integer' },
          skippedReasons: { type: 'object', additionalProperties: { type: 'integer' } },
          candidateErrors: { type: 'integer' },
          matchRate: nullableNumber,
          fields: {
            type: 'array',
            items: {
              type: 'object',
              required: ['path', 'kind', 'raw', 'noise', 'real', 'samples'],
              properties: {
                path: { type: 'string' },
                kind: { type: 'string' },
                raw: { type: 'integer' },
                noise: { type: 'integer' },
                total: { type: 'integer' },
                real: { type: 'boolean' },
                samples: { type: 'array', items: sampleSchema },
              },
            },
          },
        },
      },
    },
  },
} as const

export const auditRecordSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    at: { type: 'number' },
    actor: { type: 'string' },
    role: { type: 'string' },
    action: { type: 'string' },
    target: nullableString,
    params: anyJson,
    result: { type: 'string', enum: ['ok', 'refused', 'error'] },
    detail: nullableString,
  },
} as const

export const limitQuery = (max: number, extra: Record<string, unknown> = {}) =>
  ({ type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: max }, ...extra } }) as const

export const programStateSchema = {
  type: 'object',
  required: ['halted', 'reason', 'actor', 'wave', 'at'],
  properties: {
    halted: { type: 'boolean' },
    reason: nullableString,
    actor: nullableString,
    wave: { ...nullableString, description: 'the wave whose rollbacks halted the program; null for a manual halt' },
    at: { type: 'number', description: 'when it was last halted or resumed (epoch ms; 0 when never)' },
  },
} as const

export const programBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { reason: { type: 'string', maxLength: 2000 } },
} as const
