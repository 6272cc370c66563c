// The admin listener: health and Prometheus metrics for now; the API and dashboard plug in here.
import Fastify, { type FastifyInstance } from 'fastify'
import type { AdminDeps } from './deps.js'

export function createAdminServer(deps: AdminDeps): FastifyInstance {
  const app = Fastify({ logger: false })
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/metrics', async (_req, reply) => {
    const { contentType, body } = await deps.prometheus()
    return reply.type(contentType).send(body)
  })
  return app
}
