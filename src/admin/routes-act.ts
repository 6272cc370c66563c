// Mutating endpoints of the admin API: operator actions (role operator) and config reload (role
// admin). Each call is audited with its result; refusals by auth are audited by the server's hook.
import type { FastifyInstance } from 'fastify'
import { issueCount } from '../config/load.js'
import { TandemError, isTandemError } from '../errors.js'
import type { OperatorAction } from '../rollout/control.js'
import { writeAudit } from '../store/audit.js'
import type { AdminDeps } from './deps.js'
import { actionBody, actionParams, actionResponse, errorResponses } from './schemas.js'
import { findSystem } from './system-view.js'

const bearer = [{ bearer: [] }]

export function registerActionRoutes(api: FastifyInstance, deps: AdminDeps): void {
  api.post<{ Params: { name: string; action: OperatorAction }; Body: { force?: boolean; reason?: string } | null }>(
    '/api/v1/systems/:name/actions/:action',
    {
      config: { role: 'operator', audit: true },
      schema: {
        summary: 'Perform an operator action: start, advance, promote, pause, resume, rollback, retry or finalize',
        tags: ['actions'],
        security: bearer,
        params: actionParams,
        body: actionBody,
        response: { 200: actionResponse, ...errorResponses(404, 409, 503) },
      },
    },
    async (req) => {
      const { name, action } = req.params
      const force = req.body?.force ?? false
      const reason = req.body?.reason
      const principal = req.principal!
      const audit = {
        actor: principal.name,
        role: principal.role,
        action,
        target: name,
        params: { force, reason: reason ?? null },
      }
      try {
        findSystem(deps, name)
        if (deps.control === undefined) throw new TandemError('TANDEM_ERR_ADMIN_CONTROL_UNAVAILABLE', { action })
        const options =
          reason === undefined ? { actor: principal.name, force } : { actor: principal.name, force, reason }
        const { state, decision } = await deps.control.act(name, action, options)
        await writeAudit(deps.store, { ...audit, result: 'ok', detail: `decision ${decision.id}` })
        return { system: name, action, state, decision }
      } catch (error) {
        await writeAudit(deps.store, { ...audit, result: 'error', detail: describe(error) })
        throw error
      }
    },
  )

  api.post('/api/v1/config/reload', {
    config: { role: 'admin', audit: true },
    schema: {
      summary: 'Re-read tandem.yaml; an invalid file is rejected with its errors and the running config stays',
      tags: ['config'],
      security: bearer,
      response: {
        200: { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' } } },
        ...errorResponses(),
      },
    },
    handler: async (req) => {
      const principal = req.principal!
      const audit = { actor: principal.name, role: principal.role, action: 'config.reload', target: null }
      let result: Awaited<ReturnType<AdminDeps['reload']>>
      try {
        result = await deps.reload(principal.name)
      } catch (error) {
        await writeAudit(deps.store, { ...audit, result: 'error', detail: describe(error) })
        throw error
      }
      if (!result.ok) {
        const error = new TandemError(
          'TANDEM_ERR_CONFIG_INVALID',
          { count: issueCount(result.errors), file: 'the config file' },
          { details: result.errors },
        )
        await writeAudit(deps.store, { ...audit, result: 'error', detail: describe(error) })
        throw error
      }
      await writeAudit(deps.store, { ...audit, result: 'ok' })
      return { ok: true }
    },
  })
}

/** `CODE: message` for the audit trail. */
export function describe(error: unknown): string {
  if (isTandemError(error)) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}
