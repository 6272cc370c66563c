// Flag endpoints of the admin listener (SPEC 12): OFREP single and bulk evaluation (ETag/304 on bulk),
// in the protocol's shapes, and the adapters' observation batches (`POST /api/v1/systems/{name}/observations`).
import type { FastifyError, FastifyInstance } from 'fastify'
import type { AdminDeps } from '../admin/deps.js'
import { errorResponses, nameParams } from '../admin/schemas.js'
import { TandemError, isTandemError } from '../errors.js'
import { CLIENT_HEADER, FOLLOWS_HEADER } from './clients.js'
import { MAX_COMPARISONS, MAX_OBSERVATION_BYTES, MAX_OBSERVATIONS, checkBatch, recordBatch } from './observations.js'
import { flagsOf } from './runtime.js'

const flagsRole = { role: 'flags' } as const
const security = [{ bearer: [] }]
const ofrepBody = {
  type: 'object',
  description: 'OFREP evaluation request: `{ "context": { "targetingKey": "...", ...attributes } }`',
  additionalProperties: true,
} as const
const ofrepTags = ['flags (OFREP)']

export function registerFlagRoutes(api: FastifyInstance, deps: AdminDeps): void {
  const flags = flagsOf(deps)

  api.register(async (ofrep) => {
    // OFREP answers its own error shapes: `{ errorCode, errorDetails }` (a key when one is known).
    ofrep.setErrorHandler((error: FastifyError | TandemError, req, reply) => {
      if (isTandemError(error) && error.status !== 400) {
        if (error.code === 'TANDEM_ERR_ADMIN_RATE_LIMITED')
          void reply.header('retry-after', String((error.details as { retryAfter?: number })?.retryAfter ?? 60))
        return reply.status(error.status).send(error.toJSON())
      }
      const key = (req.params as { key?: string }).key
      const status = isTandemError(error) ? 400 : (error.statusCode ?? 500)
      const errorCode = status === 400 ? 'PARSE_ERROR' : 'GENERAL'
      return reply
        .status(status)
        .send({ ...(key === undefined ? {} : { key }), errorCode, errorDetails: error.message })
    })

    ofrep.post<{ Params: { key: string } }>('/ofrep/v1/evaluate/flags/:key', {
      config: flagsRole,
      schema: {
        summary: 'OFREP: evaluate one flag (a system) for a context; value true = candidate',
        description:
          'OpenFeature Remote Evaluation Protocol. Reasons TARGETING_MATCH, SPLIT, DEFAULT, DISABLED; ' +
          'errors FLAG_NOT_FOUND (404), TARGETING_KEY_MISSING and INVALID_CONTEXT (400). See docs/flags.md.',
        tags: ofrepTags,
        security,
        params: { type: 'object', required: ['key'], properties: { key: { type: 'string' } } },
        body: ofrepBody,
      },
      handler: async (req, reply) => {
        const answer = flags.evaluator.evaluateJson(req.params.key, req.body)
        return reply.status(answer.status).type('application/json').send(answer.body)
      },
    })

    ofrep.post('/ofrep/v1/evaluate/flags', {
      config: flagsRole,
      schema: {
        summary: 'OFREP: evaluate every flag for one context; ETag and If-None-Match (304) for polling',
        description:
          `Adapters poll it with the \`${CLIENT_HEADER}\` header (and \`${FOLLOWS_HEADER}\`: the systems they ` +
          'follow); `tandem status` lists them.',
        tags: ofrepTags,
        security,
        body: ofrepBody,
      },
      handler: async (req, reply) => {
        const header = (name: string) => {
          const v = req.headers[name]
          return Array.isArray(v) ? v[0] : v
        }
        flags.clients.synced(header(CLIENT_HEADER), header(FOLLOWS_HEADER))
        const answer = flags.evaluator.bulk(req.body)
        if (answer.etag !== undefined) {
          void reply.header('etag', answer.etag)
          if (etagMatches(header('if-none-match'), answer.etag)) return reply.status(304).send()
        }
        return reply.status(answer.status).type('application/json').send(answer.body)
      },
    })
  })

  api.post<{ Params: { name: string } }>('/api/v1/systems/:name/observations', {
    config: flagsRole,
    bodyLimit: MAX_OBSERVATION_BYTES,
    schema: {
      summary: "An adapter's batch of calls per arm (latency, error) and shadow comparisons of a code system",
      description:
        `Role flags or operator. At most ${MAX_OBSERVATIONS} observations and ${MAX_COMPARISONS} comparisons ` +
        `per batch, ${MAX_OBSERVATION_BYTES / 1024} KiB.`,
      tags: ['flags'],
      security,
      params: nameParams,
      body: observationsBody,
      response: {
        202: {
          type: 'object',
          required: ['recorded'],
          properties: { recorded: { type: 'integer' }, compared: { type: 'integer' } },
        },
        ...errorResponses(404, 409, 413),
      },
    },
    handler: async (req, reply) => {
      const principal = req.principal!
      if (principal.role === 'viewer')
        throw new TandemError('TANDEM_ERR_FLAGS_ROLE', { actor: principal.name, role: principal.role })
      const system = deps.config().systems.find((s) => s.name === req.params.name)
      if (system === undefined) throw new TandemError('TANDEM_ERR_SYSTEM_NOT_FOUND', { system: req.params.name })
      if (system.kind !== 'code') throw new TandemError('TANDEM_ERR_FLAGS_NOT_CODE', { system: system.name })
      const batch = checkBatch(req.body)
      if (flags.sink === undefined)
        throw new TandemError('TANDEM_ERR_ADMIN_CONTROL_UNAVAILABLE', { action: 'observations' })
      flags.clients.synced(batch.client, system.name)
      recordBatch(flags.sink, system.name, batch, Date.now())
      return reply.status(202).send({
        recorded: batch.observations.length,
        compared: flags.sink.comparisons === undefined ? 0 : (batch.comparisons?.length ?? 0),
      })
    },
  })
}

/** `If-None-Match` holds one or more ETags (or `*`); weak and strong forms compare equal here. */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  const bare = (t: string) => t.trim().replace(/^W\//, '')
  return header.split(',').some((t) => bare(t) === etag)
}

const side = {
  type: 'object',
  required: ['ms'],
  properties: { value: {}, error: { type: 'string' }, ms: { type: 'number', minimum: 0 } },
} as const

const observationsBody = {
  type: 'object',
  required: ['observations'],
  additionalProperties: false,
  properties: {
    client: { type: 'string', maxLength: 128, description: 'the adapter instance reporting' },
    observations: {
      type: 'array',
      maxItems: MAX_OBSERVATIONS,
      items: {
        type: 'object',
        required: ['arm', 'ms', 'error'],
        properties: {
          arm: { type: 'string', enum: ['legacy', 'candidate'] },
          ms: { type: 'number', minimum: 0, description: 'duration of the call' },
          error: { type: 'boolean', description: 'the implementation threw or rejected' },
          at: { type: 'number', description: 'when (ms since the epoch); clamped to the last minute' },
        },
      },
    },
    comparisons: {
      type: 'array',
      maxItems: MAX_COMPARISONS,
      items: {
        type: 'object',
        required: ['legacy', 'candidate'],
        properties: { at: { type: 'number' }, legacy: side, candidate: side },
      },
    },
  },
} as const
