// Analytical read endpoints of the admin API (role viewer): diffs with samples, metrics windows
// legacy vs candidate, and the program report (KPIs from src/program).
import type { FastifyInstance } from 'fastify'
import { programKpis } from '../program/kpis.js'
import { waveStatus } from '../program/waves.js'
import { listStates } from '../store/system-state.js'
import type { AdminDeps } from './deps.js'
import { readDiffReport } from '../compare/diff-report.js'
import { liveWindows, storedWindows } from './metrics-view.js'
import {
  diffsResponse,
  errorResponses,
  metricsQuery,
  metricsResponse,
  nameParams,
  programStateSchema,
} from './schemas.js'
import { evaluateTargets } from '../program/targets.js'
import { getProgramState } from '../store/program-state.js'
import { findSystem } from './system-view.js'

const viewer = { role: 'viewer' } as const
const bearer = [{ bearer: [] }]
const DEFAULT_RANGE_MS = 5 * 60_000
const DEFAULT_STEP_MS = 10_000

export function registerInsightRoutes(api: FastifyInstance, deps: AdminDeps): void {
  api.get<{ Params: { name: string } }>('/api/v1/systems/:name/diffs', {
    config: viewer,
    schema: {
      summary:
        'Per route: comparison counts and per field raw/noise counts, whether the difference is real, and samples',
      tags: ['diffs'],
      security: bearer,
      params: nameParams,
      response: { 200: diffsResponse, ...errorResponses(404) },
    },
    handler: async (req) => {
      const system = findSystem(deps, req.params.name)
      return readDiffReport(deps.store, system)
    },
  })

  api.get<{
    Params: { name: string }
    Querystring: { source: 'live' | 'stored'; since?: number; until?: number; step?: number }
  }>(
    '/api/v1/systems/:name/metrics',
    {
      config: viewer,
      schema: {
        summary:
          'Requests, errors and latency per window, legacy vs candidate (live from the gateway, or stored windows)',
        tags: ['metrics'],
        security: bearer,
        params: nameParams,
        querystring: metricsQuery,
        response: { 200: metricsResponse, ...errorResponses(404) },
      },
    },
    async (req) => {
      const system = findSystem(deps, req.params.name)
      const until = req.query.until ?? Date.now()
      const since = req.query.since ?? until - DEFAULT_RANGE_MS
      const windows =
        req.query.source === 'stored'
          ? await storedWindows(deps.store, system.name, since, until, req.query.step ?? DEFAULT_STEP_MS)
          : await liveWindows(deps.metrics, system.name, since, until, req.query.step ?? DEFAULT_STEP_MS)
      return { system: system.name, source: req.query.source, windows }
    },
  )

  api.get('/api/v1/report', {
    config: viewer,
    schema: {
      summary: 'Program report: KPIs (SPEC 7), per-system facts and waves',
      tags: ['program'],
      security: bearer,
      response: {
        200: {
          type: 'object',
          required: ['generatedAt', 'kpis', 'systems', 'waves'],
          properties: {
            generatedAt: { type: 'number' },
            kpis: {
              type: 'object',
              additionalProperties: { type: 'number' },
              properties: {
                systemsMigrated: { type: 'number' },
                systemsTotal: { type: 'number' },
                migrationRate: { type: 'number' },
                validationSuccessRate: { type: 'number' },
                rollbackCount: { type: 'number' },
                failedMigrations: { type: 'number' },
                avgThroughputImprovement: { type: 'number' },
                avgLatencyChange: { type: 'number' },
                avgMigrationTimeHours: { type: 'number' },
                totalDowntimeMinutes: { type: 'number' },
                successScore: {
                  type: ['number', 'null'],
                  description: 'null until a system has been promoted or rolled back',
                },
              },
            },
            systems: { type: 'array', items: { type: 'object', additionalProperties: true } },
            waves: { type: 'array', items: { type: 'object', additionalProperties: true } },
            program: programStateSchema,
            targets: {
              type: 'array',
              items: {
                type: 'object',
                required: ['kpi', 'value', 'target', 'met'],
                properties: {
                  kpi: { type: 'string' },
                  value: { type: 'number' },
                  target: { type: 'string' },
                  met: { type: 'boolean' },
                },
              },
            },
          },
        },
        ...errorResponses(),
      },
    },
    handler: async () => {
      const now = Date.now()
      const config = deps.config()
      const [{ kpis, facts }, states, program] = await Promise.all([
        programKpis(config, deps.store, now),
        listStates(deps.store),
        getProgramState(deps.store),
      ])
      return {
        generatedAt: now,
        kpis,
        systems: facts,
        waves: waveStatus(config, states),
        program,
        targets: evaluateTargets(kpis, config.program.targets),
      }
    },
  })
}
