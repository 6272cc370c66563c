// The admin listener: /healthz, /metrics, the /api/v1 admin API (bearer auth by role, audit, OpenAPI
// from the route schemas) and the dashboard at /. `tandem up` calls createAdminServer(deps) and listens.
import swagger from '@fastify/swagger'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify'
import pino, { type Logger } from 'pino'
import { TandemError, clientErrorFor, isTandemError } from '../errors.js'
import { storeError } from '../store/open.js'
import { writeAudit } from '../store/audit.js'
import {
  DEFAULT_FAILURE_LIMIT,
  FailureLimiter,
  authorize,
  identify,
  type FailureLimit,
  type Principal,
  type RequiredRole,
} from './auth.js'
import { assertAdminBindSafe } from './bind-check.js'
import { assertBrowserSafe } from './browser-guard.js'
import { registerDashboard } from './dashboard.js'
import type { AdminDeps } from './deps.js'
import { registerActionRoutes, describe } from './routes-act.js'
import { registerInsightRoutes } from './routes-insight.js'
import { registerReadRoutes } from './routes-read.js'
import { registerProgramRoutes } from './routes-program.js'
import { errorSchema } from './schemas.js'
import { registerFlagRoutes } from '../flags/routes.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Lowest role allowed; routes without one are public. */
    role?: RequiredRole
    /** Refusals of this route are written to the audit trail. */
    audit?: boolean
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

export interface AdminServerOptions {
  /** Failed authentications allowed per client IP and window before 429. */
  readonly failureLimit?: FailureLimit
  /** Serve the dashboard at / (default true; built with Vite when its build is missing). */
  readonly dashboard?: boolean
  /** Where every 5xx answer is logged (default: pino on stderr); fastify's own request log stays off. */
  readonly logger?: Logger
}

export interface RegisteredRoute {
  readonly method: string
  readonly url: string
  readonly hidden: boolean
}

const routesOf = new WeakMap<FastifyInstance, RegisteredRoute[]>()

/** Every route the server registered (for the OpenAPI completeness test and diagnostics). */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return routesOf.get(app) ?? []
}

export function createAdminServer(deps: AdminDeps, options: AdminServerOptions = {}): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 })
  const logger = options.logger ?? pino({ name: 'tandem-admin' }, pino.destination(2))
  const routes: RegisteredRoute[] = []
  routesOf.set(app, routes)
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url, hidden: (route.schema as { hide?: boolean } | undefined)?.hide === true })
    }
  })
  // Refuse to come up listening beyond loopback with nobody authenticated (also checked by the instance).
  app.addHook('onReady', async () => assertAdminBindSafe(deps.config()))

  app.addSchema(errorSchema)
  // Actions may be posted without a body; an empty JSON body means "no options", not a parse error.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body)
    if (text.trim() === '') return done(null, null)
    try {
      done(null, JSON.parse(text))
    } catch (error) {
      done(
        new TandemError('TANDEM_ERR_BAD_REQUEST', {
          detail: `the body is not valid JSON (${(error as Error).message})`,
        }),
        undefined,
      )
    }
  })

  const limiter = new FailureLimiter(options.failureLimit ?? DEFAULT_FAILURE_LIMIT)
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (req) => {
    const required = req.routeOptions.config.role
    let principal: Principal | undefined
    try {
      assertBrowserSafe(deps.config(), {
        method: req.method,
        url: req.url,
        host: req.headers.host,
        origin: req.headers.origin,
        contentType: req.headers['content-type'],
        localPort: req.socket.localPort,
      })
      if (required === undefined || required === 'public') return
      principal = identify(deps.config(), limiter, req.ip, req.headers.authorization)
      authorize(principal, required, `${req.method} ${req.routeOptions.url}`)
      req.principal = principal
    } catch (error) {
      if (req.routeOptions.config.audit === true) await auditRefusal(deps, req, principal, error)
      throw error
    }
  })

  app.setErrorHandler((error: FastifyError | TandemError, req, reply) => {
    if (
      !isTandemError(error) &&
      (error.validation !== undefined || (error.statusCode !== undefined && error.statusCode < 500))
    ) {
      const status = error.statusCode ?? 400
      const coded =
        error.validation !== undefined
          ? new TandemError('TANDEM_ERR_BAD_REQUEST', { detail: error.message })
          : clientErrorFor(status, error.message, req.url.split('?')[0]!)
      return reply.status(status).send(coded.toJSON())
    }
    // A damaged store surfaces here as a driver error; name the file rather than answer "internal".
    const coded = isTandemError(error)
      ? error
      : (storeError(deps.store, error) ??
        new TandemError('TANDEM_ERR_ADMIN_INTERNAL', { detail: error.message }, { cause: error }))
    // Every 5xx is logged (fastify's own request log is off): unexpected failures with their stack.
    if (coded.status === 500)
      logger.error(
        { err: error, code: coded.code, method: req.method, url: req.url },
        `admin API answered 500: ${coded.message}`,
      )
    else if (coded.status > 500)
      logger.warn(
        { code: coded.code, method: req.method, url: req.url },
        `admin API answered ${coded.status}: ${coded.message}`,
      )
    return reply.status(coded.status).send(coded.toJSON())
  })
  app.setNotFoundHandler((req, reply) => {
    const error = new TandemError('TANDEM_ERR_ADMIN_NOT_FOUND', { method: req.method, url: req.url.split('?')[0] })
    return reply.status(404).send(error.toJSON())
  })

  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Tandem admin API', version: '1', description: 'Read and act on a running tandem (SPEC 10).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  })
  app.register(async (api) => {
    api.get('/healthz', {
      schema: {
        summary: 'Liveness of the instance',
        tags: ['ops'],
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
      handler: async () => ({ status: 'ok' }),
    })
    api.get('/metrics', {
      schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['ops'], produces: ['text/plain'] },
      handler: async (_req, reply) => {
        const { contentType, body } = await deps.prometheus()
        return reply.type(contentType).send(body)
      },
    })
    api.get('/api/v1/openapi.json', {
      schema: { summary: 'This OpenAPI document', tags: ['ops'] },
      handler: async () => app.swagger(),
    })
    registerReadRoutes(api, deps)
    registerInsightRoutes(api, deps)
    registerActionRoutes(api, deps)
    registerProgramRoutes(api, deps)
    registerFlagRoutes(api, deps)
  })
  if (options.dashboard !== false) app.register(registerDashboard)
  return app
}

/** Audit names of the mutating endpoints that are not a system action. */
const AUDIT_NAMES: Record<string, string> = {
  '/api/v1/config/reload': 'config.reload',
  '/api/v1/program/halt': 'program.halt',
  '/api/v1/program/resume': 'program.resume',
}

async function auditRefusal(
  deps: AdminDeps,
  req: FastifyRequest,
  principal: Principal | undefined,
  error: unknown,
): Promise<void> {
  const params = req.params as { name?: string; action?: string }
  const url = req.routeOptions.url ?? req.url
  const action = params.action ?? AUDIT_NAMES[url] ?? url
  await writeAudit(deps.store, {
    actor: principal?.name ?? 'unauthenticated',
    role: principal?.role ?? 'none',
    action,
    target: params.name ?? null,
    params: {
      ip: req.ip,
      ...(req.headers.origin === undefined ? {} : { origin: req.headers.origin }),
      ...(req.headers.host === undefined ? {} : { host: req.headers.host }),
    },
    result: 'refused',
    detail: describe(error),
  })
}
