// A throwaway PostgreSQL schema for one test: a store URL with `?schema=` keeps its tables inside it.
import pg from 'pg'
import { services, uniqueName } from './services.js'

export async function withPostgresSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = uniqueName('t').toLowerCase()
  const admin = new pg.Client({ connectionString: services.postgres })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  const url = `${services.postgres}${services.postgres.includes('?') ? '&' : '?'}schema=${schema}`
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: services.postgres })
      await c.connect()
      await c.query(`DROP SCHEMA ${schema} CASCADE`)
      await c.end()
    },
  }
}
