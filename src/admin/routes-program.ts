// The program's halt over the admin API (SPEC 7): read it (viewer), halt and resume it (operator).
// Every halt and resume is audited with its actor and reason, accepted or refused.
import type { FastifyInstance } from 'fastify'
import { haltProgram, resumeProgram } from '../program/halt.js'
import { notifyProgram } from '../rollout/hooks.js'
import { getProgramState, type ProgramState } from '../store/program-state.js'
import { writeAudit } from '../store/audit.js'
import type { AdminDeps } from './deps.js'
import { describe } from './routes-act.js'
import { errorResponses, programBody, programStateSchema } from './schemas.js'

const bearer = [{ bearer: [] }]

export function registerProgramRoutes(api: FastifyInstance, deps: AdminDeps): void {
  api.get('/api/v1/program', {
    config: { role: 'viewer' },
    schema: {
      summary: 'Whether the program is halted (mass failure or `tandem program halt`), why, by whom and since when',
      tags: ['program'],
      security: bearer,
      response: { 200: programStateSchema, ...errorResponses() },
    },
    handler: async () => getProgramState(deps.store),
  })

  for (const verb of ['halt', 'resume'] as const) {
    api.post<{ Body: { reason?: string } | null }>(`/api/v1/program/${verb}`, {
      config: { role: 'operator', audit: true },
      schema: {
        summary:
          verb === 'halt'
            ? 'Halt the program: no system starts or advances (rollbacks still happen) until resumed'
            : 'Resume a halted program',
        tags: ['program'],
        security: bearer,
        body: programBody,
        response: { 200: programStateSchema, ...errorResponses(409) },
      },
      handler: async (req) => {
        const principal = req.principal!
        const reason = req.body?.reason
        const audit = {
          actor: principal.name,
          role: principal.role,
          action: `program.${verb}`,
          target: null,
          params: { reason: reason ?? null },
        }
        let state: ProgramState
        try {
          const request = { actor: principal.name, role: principal.role, reason }
          state =
            verb === 'halt'
              ? await haltProgram(deps.store, request, Date.now())
              : await resumeProgram(deps.store, request, Date.now())
        } catch (error) {
          await writeAudit(deps.store, { ...audit, result: 'error', detail: describe(error) })
          throw error
        }
        await writeAudit(deps.store, { ...audit, result: 'ok', detail: state.reason })
        const text =
          `tandem: program ${verb === 'halt' ? 'halted' : 'resumed'} by ${principal.name}:` + ` ${state.reason ?? ''}`
        void notifyProgram(deps.config(), 'event', {
          kind: 'event',
          system: '*',
          stage: '-',
          weight: 0,
          stepIndex: -1,
          reason: state.reason ?? verb,
          text,
          at: new Date(state.at).toISOString(),
          program: state,
        })
        return state
      },
    })
  }
}
