// Read endpoints of the admin API (role viewer): systems, system detail, decisions, verdicts, waves,
// audit and whoami.
import type { FastifyInstance } from 'fastify'
import { waveStatus } from '../program/waves.js'
import { listDecisions, listStates } from '../store/system-state.js'
import { getProgramState } from '../store/program-state.js'
import { listAudit } from '../store/audit.js'
import type { AdminDeps } from './deps.js'
import {
  auditRecordSchema,
  decisionSchema,
  errorResponses,
  limitQuery,
  nameParams,
  programStateSchema,
  systemDetailSchema,
  systemSummarySchema,
  verdictSchema,
} from './schemas.js'
import { findSystem, listSystems, listVerdicts, systemDetail } from './system-view.js'

const viewer = { role: 'viewer' } as const
const bearer = [{ bearer: [] }]

type Limit = { limit?: number }
type NameParams = { name: string }

export function registerReadRoutes(api: FastifyInstance, deps: AdminDeps): void {
  api.get('/api/v1/whoami', {
    config: viewer,
    schema: {
      summary: 'Who the bearer token belongs to, and its role',
      tags: ['auth'],
      security: bearer,
      response: {
        200: {
          type: 'object',
          required: ['name', 'role', 'authRequired'],
          properties: { name: { type: 'string' }, role: { type: 'string' }, authRequired: { type: 'boolean' } },
        },
        ...errorResponses(),
      },
    },
    handler: async (req) => ({ ...req.principal!, authRequired: deps.config().admin.tokens.length > 0 }),
  })

  api.get('/api/v1/systems', {
    config: viewer,
    schema: {
      summary: 'Every system with its stage, weight and hold reason',
      tags: ['systems'],
      security: bearer,
      response: {
        200: {
          type: 'object',
          required: ['systems', 'program'],
          properties: { systems: { type: 'array', items: systemSummarySchema }, program: programStateSchema },
        },
        ...errorResponses(),
      },
    },
    handler: async () => ({ systems: await listSystems(deps), program: await getProgramState(deps.store) }),
  })

  api.get<{ Params: NameParams }>('/api/v1/systems/:name', {
    config: viewer,
    schema: {
      summary: 'One system: state, steps, the last 20 verdicts with evidence and the last 50 decisions',
      tags: ['systems'],
      security: bearer,
      params: nameParams,
      response: { 200: systemDetailSchema, ...errorResponses(404) },
    },
    handler: async (req) => systemDetail(deps, req.params.name),
  })

  api.get<{ Params: NameParams; Querystring: Limit }>('/api/v1/systems/:name/decisions', {
    config: viewer,
    schema: {
      summary: "A system's decisions, oldest first",
      tags: ['systems'],
      security: bearer,
      params: nameParams,
      querystring: limitQuery(5000),
      response: { 200: decisionsResponse, ...errorResponses(404) },
    },
    handler: async (req) => {
      findSystem(deps, req.params.name)
      return { decisions: await listDecisions(deps.store, req.params.name, req.query.limit ?? 1000) }
    },
  })

  api.get<{ Params: NameParams; Querystring: Limit }>('/api/v1/systems/:name/verdicts', {
    config: viewer,
    schema: {
      summary: "A system's verdicts with evidence, newest first",
      tags: ['systems'],
      security: bearer,
      params: nameParams,
      querystring: limitQuery(5000),
      response: { 200: verdictsResponse, ...errorResponses(404) },
    },
    handler: async (req) => {
      findSystem(deps, req.params.name)
      return { verdicts: await listVerdicts(deps, req.params.name, req.query.limit ?? 100) }
    },
  })

  api.get<{ Querystring: Limit & { system?: string } }>('/api/v1/decisions', {
    config: viewer,
    schema: {
      summary: 'Decisions of every system (or one, with ?system=), oldest first',
      tags: ['decisions'],
      security: bearer,
      querystring: limitQuery(5000, { system: { type: 'string' } }),
      response: { 200: decisionsResponse, ...errorResponses() },
    },
    handler: async (req) => ({ decisions: await listDecisions(deps.store, req.query.system, req.query.limit ?? 1000) }),
  })

  api.get<{ Querystring: Limit & { system?: string } }>('/api/v1/verdicts', {
    config: viewer,
    schema: {
      summary: 'Verdicts with evidence of every system (or one, with ?system=), newest first',
      tags: ['verdicts'],
      security: bearer,
      querystring: limitQuery(5000, { system: { type: 'string' } }),
      response: { 200: verdictsResponse, ...errorResponses() },
    },
    handler: async (req) => ({ verdicts: await listVerdicts(deps, req.query.system, req.query.limit ?? 100) }),
  })

  api.get('/api/v1/waves', {
    config: viewer,
    schema: {
      summary: 'Waves in order, with their systems, counts by stage and whether each is open',
      tags: ['program'],
      security: bearer,
      response: {
        200: {
          type: 'object',
          required: ['waves'],
          properties: {
            waves: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: true,
                properties: {
                  name: { type: 'string' },
                  index: { type: 'integer' },
                  systems: { type: 'array', items: { type: 'string' } },
                  open: { type: 'boolean' },
                  reason: { type: 'string' },
                },
              },
            },
          },
        },
        ...errorResponses(),
      },
    },
    handler: async () => ({ waves: waveStatus(deps.config(), await listStates(deps.store)) }),
  })

  api.get<{ Querystring: Limit & { target?: string; actor?: string; before?: number } }>('/api/v1/audit', {
    config: viewer,
    schema: {
      summary: 'The audit trail of actions and config reloads (accepted and refused), newest first',
      tags: ['audit'],
      security: bearer,
      querystring: limitQuery(5000, {
        target: { type: 'string' },
        actor: { type: 'string' },
        before: { type: 'integer' },
      }),
      response: {
        200: {
          type: 'object',
          required: ['entries'],
          properties: { entries: { type: 'array', items: auditRecordSchema } },
        },
        ...errorResponses(),
      },
    },
    handler: async (req) => ({ entries: await listAudit(deps.store, req.query) }),
  })
}

const decisionsResponse = {
  type: 'object',
  required: ['decisions'],
  properties: { decisions: { type: 'array', items: decisionSchema } },
} as const

const verdictsResponse = {
  type: 'object',
  required: ['verdicts'],
  properties: { verdicts: { type: 'array', items: verdictSchema } },
} as const
